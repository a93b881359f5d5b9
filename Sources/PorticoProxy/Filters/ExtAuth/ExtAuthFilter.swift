import CoreMetrics
import NIOCore
import PorticoAPI
import PorticoTranslate

/// `extauth`: runs the route's AuthConfig before anything else may spend work on the request. Steps run in
/// order and all must pass, or `booleanExpr` decides (a step runs only when the expression needs it). A
/// request that passes goes upstream with the headers its steps added, and the caller's identity in
/// `userIdHeader`; what the client sent under that name never passes. One that does not is answered by
/// the first step that refused it: 401 with a challenge, or 403. Headers the steps set replace the
/// client's: what a client sends under those names never passes, even when no step has a value for it.
final class ExtAuthFilter: ConfiguredFilter {
  /// The response-head phase only where a step may add headers to the response (an ext_authz server).
  let phases: FilterPhases
  private let config: ExtAuthConfig
  private let steps: [any AuthStep]
  /// Step positions by name, for `booleanExpr`.
  private let positions: [String: Int]
  private let metricsKey: LoopStateKey
  /// The identity header and every header a step sets in place of the client's.
  private let replacedHeaders: [String]
  /// The query parameters JWT steps read tokens from: never logged.
  private let tokenQueryParameters: [String]

  static func settings(for route: RouteConfig) -> ExtAuthConfig? { route.extauth }

  init(_ config: ExtAuthConfig) {
    self.config = config
    steps = config.steps.enumerated().map { position, step in
      step.check.makeStep(
        key: "extauth.\(config.id).\(position)", timeout: .nanoseconds(config.requestTimeoutNanoseconds))
    }
    positions = Dictionary(
      config.steps.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    metricsKey = LoopStateKey("extauth.metrics.\(config.id)")
    var replaced = [config.userIdHeader]
    for step in steps { replaced += step.replacedHeaders.filter { !replaced.contains($0) } }
    replacedHeaders = replaced.filter { !FieldEdits.isProtected($0) }
    var queryNames: [String] = []
    for step in config.steps {
      guard case .jwt(let check) = step.check else { continue }
      for provider in check.providers {
        for case .query(let name) in provider.sources where !queryNames.contains(name) {
          queryNames.append(name)
        }
      }
    }
    tokenQueryParameters = queryNames
    var phases: FilterPhases = [.requestHead]
    if steps.contains(where: { $0.addsResponseHeaders }) { phases.insert(.responseHead) }
    if config.requestBody != nil { phases.insert(.requestBody) }
    self.phases = phases
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    // A header a step would set never comes from the client, even when the step has no value for it.
    call.upstreamHeaders.remove(all: replacedHeaders)
    if !tokenQueryParameters.isEmpty { call.queryParametersHiddenFromLogs += tokenQueryParameters }
    // The steps run when the body has arrived (`requestBody`).
    if config.requestBody != nil { return .buffer }
    return authorize(call)
  }

  /// Runs the steps. A lone step that answers at once (a key or a token checked in memory, the common
  /// case) decides without the bookkeeping of a run that may wait.
  private func authorize(_ call: FilterCall) -> FilterVerdict {
    guard steps.count == 1, config.expression == nil, let outcome = steps[0].outcomeAtOnce(call) else {
      return AuthRun(self, call).start()
    }
    if outcome.isFailure {
      guard steps[0].passesWhenFailed else { return failedVerdict(call) }
      passedOnFailure(call)
    }
    return verdict(allowed: passes(outcome, at: 0), CollectionOfOne(outcome), call)
  }

  /// The whole body, when the settings ask auth to see it: cut to their bound if partial bodies are allowed,
  /// 413 otherwise. The upstream gets all of it either way.
  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end, let settings = config.requestBody, call.bodyForAuth == nil else { return .proceed }
    let partial = body.readableBytes > settings.maxBytes
    if partial, !settings.allowPartial {
      return .answer(LocalAnswer(status: 413, body: "request body too large for authorization\n"))
    }
    let shown = body.getSlice(at: body.readerIndex, length: min(body.readableBytes, settings.maxBytes))!
    call.bodyForAuth = (shown, partial, settings.packAsBytes)
    return authorize(call)
  }

  /// The headers the steps that let the request through asked for on its response.
  func responseHead(_ call: FilterCall) -> FilterVerdict {
    call.responseHeaders.merge(call.responseHeadersOnPass)
    return .proceed
  }

  /// The steps' outcomes so far; `expression` (or all of the steps) decides.
  enum Progress {
    case decided(Bool)
    /// The step at this position must run before anything is known.
    case needs(Int)
  }

  func progress(_ outcomes: [AuthOutcome?]) -> Progress {
    guard let expression = config.expression else {
      // Every step must pass: the first one not known yet is needed, the first that does not pass decides.
      for (position, outcome) in outcomes.enumerated() {
        guard let outcome else { return .needs(position) }
        if !passes(outcome, at: position) { return .decided(false) }
      }
      return .decided(true)
    }
    var needed: Int?
    // Evaluated with short-circuits, in order: the first step whose outcome is missing is the one the
    // answer waits on; every outcome read before it was known.
    let allowed = expression.evaluate { name in
      guard let position = positions[name] else { return false }
      guard let outcome = outcomes[position] else {
        if needed == nil { needed = position }
        return false
      }
      return passes(outcome, at: position)
    }
    return needed.map(Progress.needs) ?? .decided(allowed)
  }

  private func passes(_ outcome: AuthOutcome, at position: Int) -> Bool {
    outcome.isAllowed || (outcome.isFailure && steps[position].passesWhenFailed)
  }

  /// What the steps' outcomes come to: the request goes on with the headers the passing steps set, or is
  /// answered by the first step that refused it, or with `statusOnError` when a check failed.
  func verdict(allowed: Bool, _ outcomes: some Collection<AuthOutcome?>, _ call: FilterCall) -> FilterVerdict
  {
    let metrics = series(call)
    guard allowed else {
      call.flag(.unauthorized)
      // A failure that does not pass answered already (`failedVerdict`): here only refusals remain.
      for case .denied(let status, let challenge, let headers, let body)? in outcomes {
        metrics.denied.increment()
        var fields = challenge.map { [("www-authenticate", $0)] } ?? []
        fields += headers.map { ($0.name, $0.value) }
        return .answer(
          LocalAnswer(
            status: status, body: body ?? (status == 401 ? "unauthorized\n" : "forbidden\n"), fields: fields))
      }
      // Every step that ran passed, and the expression still says no (`!admin`, say).
      metrics.denied.increment()
      return .answer(LocalAnswer(status: 403, body: "forbidden\n"))
    }
    metrics.allowed.increment()
    var identified = false
    for case .allowed(
      let identity, let headers, let removing, let removingQuery, let settingQuery, let answer)?
      in outcomes
    {
      call.upstreamHeaders.remove(all: removing)
      call.removedQueryParameters += removingQuery
      call.setQueryParameters += settingQuery
      for header in answer {
        if !header.append { call.responseHeadersOnPass.remove(header.name) }
        call.responseHeadersOnPass.add(header.name, header.value)
      }
      if let identity, !identified {
        call.upstreamHeaders.add(config.userIdHeader, identity)
        identified = true
      }
      for header in headers {
        if !header.append { call.upstreamHeaders.remove(header.name) }
        call.upstreamHeaders.add(header.name, header.value)
      }
    }
    return .proceed
  }

  /// A step failed and decides the request before the others are known: `statusOnError`, unless
  /// `failureModeAllow` lets the request through.
  func failedVerdict(_ call: FilterCall) -> FilterVerdict {
    call.flag(.unauthorized)
    series(call).errors.increment()
    if config.failureModeAllow { return .proceed }
    return .answer(LocalAnswer(status: config.statusOnError, body: "authorization service unavailable\n"))
  }

  /// A step failed and passes under its own `failureModeAllow`: counted as an error all the same.
  func passedOnFailure(_ call: FilterCall) { series(call).errors.increment() }

  private func series(_ call: FilterCall) -> ExtAuthSeries {
    call.loopState(metricsKey) {
      ExtAuthSeries(factory: call.loop.services.metrics.factory, config: config.id)
    }
  }

  var timeout: TimeAmount { .nanoseconds(config.requestTimeoutNanoseconds) }
  var stepCount: Int { steps.count }
  func step(at position: Int) -> any AuthStep { steps[position] }
}

/// `portico_extauth_requests_total{config,outcome}`, kept per AuthConfig and event loop.
final class ExtAuthSeries {
  let allowed: CoreMetrics.Counter
  let denied: CoreMetrics.Counter
  /// A check could not be made (whether `failureModeAllow` let the request through or not).
  let errors: CoreMetrics.Counter

  init(factory: any MetricsFactory, config: String) {
    func counter(_ outcome: String) -> CoreMetrics.Counter {
      CoreMetrics.Counter(
        label: "portico_extauth_requests_total", dimensions: [("config", config), ("outcome", outcome)],
        factory: factory)
    }
    allowed = counter("allowed")
    denied = counter("denied")
    errors = counter("error")
  }
}
