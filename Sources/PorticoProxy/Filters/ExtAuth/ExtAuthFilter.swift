import CoreMetrics
import PorticoAPI
import PorticoTranslate

/// `extauth`: runs the route's AuthConfig before anything else may spend work on the request. Steps run in
/// order and all must pass, or `booleanExpr` decides (a step runs only when the expression needs it). A
/// request that passes goes upstream with the headers its steps added, and the caller's identity in
/// `userIdHeader`; what the client sent under that name never passes. One that does not is answered by
/// the first step that refused it: 401 with a challenge, or 403. Headers the steps set replace the
/// client's: what a client sends under those names never passes, even when no step has a value for it.
final class ExtAuthFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead]
  private let config: ExtAuthConfig
  private let steps: [any AuthStep]
  /// Step positions by name, for `booleanExpr`.
  private let positions: [String: Int]
  private let metricsKey: String
  /// The identity header and every header a step sets in place of the client's.
  private let replacedHeaders: [String]

  static func settings(for route: RouteConfig) -> ExtAuthConfig? { route.extauth }

  init(_ config: ExtAuthConfig) {
    self.config = config
    steps = config.steps.enumerated().map { position, step in
      step.check.makeStep(key: "extauth.\(config.id).\(position)")
    }
    positions = Dictionary(
      config.steps.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    metricsKey = "extauth.metrics.\(config.id)"
    var replaced = [config.userIdHeader]
    for step in steps { replaced += step.replacedHeaders.filter { !replaced.contains($0) } }
    replacedHeaders = replaced.filter { !FieldEdits.isProtected($0) }
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    // A header a step would set never comes from the client, even when the step has no value for it.
    call.upstreamHeaders.remove(all: replacedHeaders)
    var outcomes = [AuthOutcome?](repeating: nil, count: steps.count)
    func passes(_ position: Int) -> Bool {
      if let known = outcomes[position] { return known.isAllowed }
      let outcome = steps[position].check(call)
      outcomes[position] = outcome
      return outcome.isAllowed
    }
    let allowed =
      if let expression = config.expression {
        expression.evaluate { name in positions[name].map(passes) ?? false }
      } else {
        steps.indices.allSatisfy(passes)
      }
    let metrics = call.loopState(metricsKey) {
      ExtAuthSeries(factory: call.loop.services.metrics.factory, config: config.id)
    }
    guard allowed else {
      metrics.denied.increment()
      call.flag(.unauthorized)
      for case .denied(let status, let challenge)? in outcomes {
        return .answer(
          LocalAnswer(
            status: status, body: status == 401 ? "unauthorized\n" : "forbidden\n",
            fields: challenge.map { [("www-authenticate", $0)] } ?? []))
      }
      // Every step that ran passed, and the expression still says no (`!admin`, say).
      return .answer(LocalAnswer(status: 403, body: "forbidden\n"))
    }
    metrics.allowed.increment()
    var identified = false
    for case .allowed(let identity, let headers, let removing)? in outcomes {
      for name in removing { call.upstreamHeaders.remove(name) }
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
}

/// `portico_extauth_requests_total{config,outcome}`, kept per AuthConfig and event loop.
final class ExtAuthSeries {
  let allowed: CoreMetrics.Counter
  let denied: CoreMetrics.Counter

  init(factory: any MetricsFactory, config: String) {
    func counter(_ outcome: String) -> CoreMetrics.Counter {
      CoreMetrics.Counter(
        label: "portico_extauth_requests_total", dimensions: [("config", config), ("outcome", outcome)],
        factory: factory)
    }
    allowed = counter("allowed")
    denied = counter("denied")
  }
}
