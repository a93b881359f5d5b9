import CoreMetrics
import NIOCore
import PorticoTranslate
import PorticoWAF
import Synchronization

/// `waf`: the route's ModSecurity rules (the Core Rule Set, the user's rule sets) over each request and its
/// response, phase by phase as ModSecurity defines them, on the gateway's WAF threads (`WAFPool`): the event
/// loop only hands the message over and takes the verdict back. A request with a body is held until the
/// body has arrived (unless `requestHeadersOnly`), so that phases 1 and 2 run together and the upstream
/// never sees a request the rules block; a response is held the same way when its body is inspected. A
/// disruptive rule answers with its status (403 by default) and the route's intervention message. What the
/// rules log goes to the gateway's WAF log when the exchange ends.
final class WAFFilter: ConfiguredFilter {
  let phases: FilterPhases
  private let config: WAFConfig
  /// Nil when the rules do not compile here (the translator checked them; a file changed since): every
  /// request is refused, never let through uninspected.
  private let rules: WAFRules?
  private let metricsKey: LoopStateKey

  static func settings(for route: RouteConfig) -> WAFConfig? { route.waf }

  convenience init(_ config: WAFConfig) { self.init(config, gateway: FilterEnvironment()) }

  init(_ config: WAFConfig, gateway: FilterEnvironment) {
    self.config = config
    rules = try? WAFRules.compile(config.sources + Self.audit(config.auditAction, to: gateway.wafAuditLog))
    metricsKey = LoopStateKey("waf.metrics." + config.setBy)
    var phases: FilterPhases = [.requestHead, .responseHead, .log]
    if config.inspectsRequestBody { phases.insert(.requestBody) }
    if config.inspectsResponseBody { phases.insert(.responseBody) }
    self.phases = phases
  }

  /// The audit engine's settings for `auditLogging.action`, after every other rule: entries in ModSecurity's
  /// native serial format, the relevant ones being those that end in 5xx or 4xx other than 404 (as in
  /// ModSecurity's recommended configuration).
  static func audit(_ action: String, to path: String) -> [WAFRuleSource] {
    let engine: String
    switch action {
    case "ALWAYS": engine = "On"
    case "RELEVANT_ONLY": engine = "RelevantOnly"
    default: return []
    }
    return [
      .text(
        """
        SecAuditEngine \(engine)
        SecAuditLogRelevantStatus "^(?:5|4(?!04))"
        SecAuditLogParts ABIJDEFHZ
        SecAuditLogType Serial
        SecAuditLog "\(path)"
        """, origin: "Portico's audit settings")
    ]
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard let rules else { return .answer(LocalAnswer(status: 500, body: "WAF configuration error\n")) }
    let exchange = WAFExchange(rules: rules, id: call.host.requestID.text)
    call.waf = exchange
    if config.inspectsRequestBody, call.request.framing != .none { return .buffer }
    return inspectRequest(call, exchange, body: nil)
  }

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end, let exchange = call.waf, !exchange.requestInspected else { return .proceed }
    return inspectRequest(call, exchange, body: body)
  }

  /// Phases 1 and 2 (connection, request line, headers, then the body if there is one).
  private func inspectRequest(_ call: FilterCall, _ exchange: WAFExchange, body: ByteBuffer?) -> FilterVerdict
  {
    exchange.requestInspected = true
    let request = call.request
    let client = call.clientAddress
    return run(call, exchange) { transaction in
      transaction.connection(client: client, clientPort: 0, server: "0.0.0.0", serverPort: 0)
      transaction.uri(
        String(request.originForm), method: String(request.method), version: request.isHTTP10 ? "1.0" : "1.1")
      for field in request.head.fields {
        transaction.addRequestHeader(request.head.name(of: field), request.head.value(of: field))
      }
      if let found = transaction.processRequestHeaders() { return found }
      body?.withUnsafeReadableBytes { transaction.appendRequestBody($0) }
      return transaction.processRequestBody()
    }
  }

  func responseHead(_ call: FilterCall) -> FilterVerdict {
    // A request the WAF answered itself has no response to inspect.
    guard let exchange = call.waf, !exchange.answered, let response = call.response else {
      return .proceed
    }
    if config.inspectsResponseBody, Self.inspectable(response, within: call.bodyBound) { return .buffer }
    return inspectResponse(call, exchange, response, body: nil)
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end, let exchange = call.waf, !exchange.answered, !exchange.responseInspected,
      let response = call.response
    else {
      return .proceed
    }
    return inspectResponse(call, exchange, response, body: body)
  }

  /// Phases 3 and 4.
  private func inspectResponse(
    _ call: FilterCall, _ exchange: WAFExchange, _ response: ResponseView, body: ByteBuffer?
  ) -> FilterVerdict {
    exchange.responseInspected = true
    var fields: [(String, String)] = []
    response.forEachField { fields.append((String($0), String($1))) }
    let status = response.status
    // A response that goes out as it came has phase 5 run with it: that saves a trip to the WAF threads.
    return run(call, exchange, loggingAfter: status) { [fields] transaction in
      for (name, value) in fields { transaction.addResponseHeader(name, value) }
      if let found = transaction.processResponseHeaders(status: status, version: "HTTP 1.1") { return found }
      body?.withUnsafeReadableBytes { transaction.appendResponseBody($0) }
      return transaction.processResponseBody()
    }
  }

  /// Phase 5, after the client has its answer; then what the rules logged goes to the WAF log. On a WAF
  /// thread, after any phase still running for this request (its client may have left mid-check).
  func log(_ call: FilterCall) {
    guard let exchange = call.waf else { return }
    call.waf = nil
    let metrics = series(call)
    let status = call.response?.status ?? 0
    let services = call.loop.services.waf
    let finish: @Sendable (Int?) -> Void = { status in
      let (outcome, lines) = exchange.finish(status: status)
      metrics.count(outcome)
      services.write(lines)
    }
    // Phase 5 ran with the response phases (the common case): nothing is left for the WAF threads, and no
    // phase holds the lock, so the lines go from here without a trip to them.
    if exchange.hasLogged { return finish(nil) }
    if !services.pool.submit({ _ in finish(status) }) { finish(nil) }
  }

  /// Runs `phases` on the WAF pool and resumes the request with their verdict.
  private func run(
    _ call: FilterCall, _ exchange: WAFExchange, loggingAfter status: Int? = nil,
    _ phases: @escaping @Sendable (WAFTransaction) -> WAFIntervention?
  ) -> FilterVerdict {
    let metrics = series(call)
    let resume = call.suspend()
    let message = config.interventionMessage
    let mailbox = call.loop.wafMailbox
    let submitted = call.loop.services.waf.pool.submit { active in
      guard active else {
        exchange.refused()
        return mailbox.post { resume.answer(Self.overloaded) }
      }
      guard let found = exchange.run(phases, loggingAfter: status) else {
        return mailbox.post { resume.proceed() }
      }
      let answer = Self.answer(for: found, message: message)
      mailbox.post { resume.answer(answer) }
    }
    guard submitted else {
      call.suspension = nil
      exchange.refused()
      metrics.overloaded.increment()
      return .answer(Self.overloaded)
    }
    return .suspend
  }

  private static let overloaded = LocalAnswer(
    status: 503, body: "the web application firewall is overloaded\n", flag: .wafOverloaded)

  /// What a disruptive action answers: its status (403 when it names none that refuses), or its redirect.
  static func answer(for intervention: WAFIntervention, message: String?) -> LocalAnswer {
    if let location = intervention.redirect, !location.isEmpty {
      let status = (300..<400).contains(intervention.status) ? intervention.status : 302
      return LocalAnswer(status: status, body: nil, fields: [("location", location)], flag: .wafBlocked)
    }
    let status = (400..<600).contains(intervention.status) ? intervention.status : 403
    return LocalAnswer(
      status: status, body: message ?? "blocked by the web application firewall\n", flag: .wafBlocked)
  }

  /// Response bodies ModSecurity reads (its `SecResponseBodyMimeType`, as Portico sets it) whose length is
  /// known and within both ModSecurity's default `SecResponseBodyLimit` (512 KiB) and the route's bound:
  /// others pass with their headers inspected and their body unread, as `ProcessPartial` has it, rather
  /// than be held past what the gateway keeps.
  private static func inspectable(_ response: ResponseView, within bound: BodyBound) -> Bool {
    guard let length = response.field("content-length").flatMap({ Int($0.trimmingSpaces) }),
      !bound.isExceeded(by: length), length <= responseInspectionLimit,
      let type = response.field("content-type")
    else { return false }
    let media = type.prefix { $0 != ";" }.trimmingSpaces
    return ["text/plain", "text/html", "text/xml", "application/json"].contains {
      media.equalsIgnoringASCIICase($0)
    }
  }

  private static let responseInspectionLimit = 512 * 1024

  private func series(_ call: FilterCall) -> WAFSeries {
    call.loopState(metricsKey) { WAFSeries(factory: call.loop.services.metrics.factory, rules: config.setBy) }
  }
}

/// One request's WAF state, from its head to its log line. The transaction is only touched under `shared`'s
/// lock, by one WAF thread at a time: a phase still running when the request ends (its client left) finishes
/// before phase 5 starts, and nothing runs after phase 5.
final class WAFExchange: Sendable {
  enum Outcome: Sendable {
    case allowed
    /// A rule answered instead of the upstream (or of its response).
    case blocked
    /// Refused with 503: the WAF's threads had no room.
    case overloaded
  }

  private struct Shared: Sendable {
    /// Made by the first phase, on a WAF thread: ModSecurity's allocations for it stay on those threads.
    var transaction: WAFTransaction?
    var lines: [String] = []
    var logged = false
    var outcome = Outcome.allowed
  }

  private let rules: WAFRules
  private let id: String
  private let shared = Mutex(Shared())
  /// Set with phase 5 (under the lock); read without taking it.
  private let logged = Atomic<Bool>(false)

  var hasLogged: Bool { logged.load(ordering: .acquiring) }
  /// The request's own loop only.
  nonisolated(unsafe) var requestInspected = false
  nonisolated(unsafe) var responseInspected = false
  /// The WAF answered the request itself (blocked, or refused): its response is not inspected. Read on
  /// the loop once the request phases are over, when no phase holds the lock.
  var answered: Bool { shared.withLock { $0.outcome != .allowed } }

  init(rules: WAFRules, id: String) {
    self.rules = rules
    self.id = id
  }

  /// Runs `phases` (then phase 5 when `status` is given and no rule intervened); what a rule decided, if
  /// one intervened. Nothing runs once phase 5 has.
  func run(_ phases: (WAFTransaction) -> WAFIntervention?, loggingAfter status: Int?) -> WAFIntervention? {
    shared.withLock { state in
      guard !state.logged else { return nil }
      let transaction = state.transaction ?? WAFTransaction(rules: rules, id: id)
      state.transaction = transaction
      let found = phases(transaction)
      if found == nil, let status {
        transaction.processLogging(status: status)
        state.logged = true
        logged.store(true, ordering: .releasing)
      }
      state.lines += transaction.takeLogLines()
      guard let found else { return nil }
      // ModSecurity's line for the rule that blocked (its callback reports rules that only warn).
      if let line = found.log { state.lines.append(line) }
      state.outcome = .blocked
      return found
    }
  }

  /// The WAF's threads had no room for this request.
  func refused() { shared.withLock { $0.outcome = .overloaded } }

  /// Phase 5 unless it has run (`status` nil: skipped), once; the outcome and every line the rules logged.
  func finish(status: Int?) -> (Outcome, [String]) {
    shared.withLock { state in
      if !state.logged, let status, let transaction = state.transaction {
        transaction.processLogging(status: status)
        state.lines += transaction.takeLogLines()
      }
      state.logged = true
      return (state.outcome, state.lines)
    }
  }
}

/// `portico_waf_requests_total{rules,outcome}` on one loop: `allowed`, `blocked`, or `overloaded` (refused
/// with 503, the WAF's threads being full).
final class WAFSeries: Sendable {
  let allowed: CoreMetrics.Counter
  let blocked: CoreMetrics.Counter
  let overloaded: CoreMetrics.Counter

  init(factory: any MetricsFactory, rules: String) {
    func counter(_ outcome: String) -> CoreMetrics.Counter {
      CoreMetrics.Counter(
        label: "portico_waf_requests_total", dimensions: [("rules", rules), ("outcome", outcome)],
        factory: factory)
    }
    allowed = counter("allowed")
    blocked = counter("blocked")
    overloaded = counter("overloaded")
  }

  /// A finished request (one refused for overload was counted then).
  func count(_ outcome: WAFExchange.Outcome) {
    switch outcome {
    case .allowed: allowed.increment()
    case .blocked: blocked.increment()
    case .overloaded: break
    }
  }
}
