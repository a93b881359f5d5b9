import CoreMetrics
import NIOCore
import PorticoTranslate
import PorticoWAF

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

  init(_ config: WAFConfig) {
    self.config = config
    rules = try? WAFRules.compile(config.sources)
    metricsKey = LoopStateKey("waf.metrics." + config.setBy)
    var phases: FilterPhases = [.requestHead, .responseHead, .log]
    if config.inspectsRequestBody { phases.insert(.requestBody) }
    if config.inspectsResponseBody { phases.insert(.responseBody) }
    self.phases = phases
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
    guard let exchange = call.waf, exchange.outcome == .allowed, let response = call.response else {
      return .proceed
    }
    if config.inspectsResponseBody, Self.inspectable(response, within: call.bodyBound) { return .buffer }
    return inspectResponse(call, exchange, response, body: nil)
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end, let exchange = call.waf, exchange.outcome == .allowed, !exchange.responseInspected,
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
    return run(call, exchange) { [fields] transaction in
      for (name, value) in fields { transaction.addResponseHeader(name, value) }
      if let found = transaction.processResponseHeaders(status: status, version: "HTTP 1.1") { return found }
      body?.withUnsafeReadableBytes { transaction.appendResponseBody($0) }
      if let found = transaction.processResponseBody() { return found }
      // The response goes out as it came: phase 5 now, which saves the request a trip to these threads.
      transaction.processLogging(status: status)
      exchange.logged = true
      return nil
    }
  }

  /// Phase 5, after the client has its answer; then what the rules logged goes to the WAF log.
  func log(_ call: FilterCall) {
    guard let exchange = call.waf else { return }
    call.waf = nil
    let metrics = series(call)
    switch exchange.outcome {
    case .allowed: metrics.allowed.increment()
    case .blocked: metrics.blocked.increment()
    case .overloaded: break  // counted when refused
    }
    let services = call.loop.services.waf
    guard !exchange.logged, let transaction = exchange.transaction else {
      return services.write(exchange.lines)
    }
    let status = call.response?.status ?? 0
    let submitted = services.pool.submit { _ in
      transaction.processLogging(status: status)
      exchange.lines += transaction.takeLogLines()
      services.write(exchange.lines)
    }
    if !submitted { services.write(exchange.lines) }
  }

  /// Runs `phases` on the WAF pool and resumes the request with their verdict.
  private func run(
    _ call: FilterCall, _ exchange: WAFExchange,
    _ phases: @escaping @Sendable (WAFTransaction) -> WAFIntervention?
  ) -> FilterVerdict {
    let metrics = series(call)
    let resume = call.suspend()
    let message = config.interventionMessage
    let submitted = call.loop.services.waf.pool.submit { active in
      guard active else {
        exchange.outcome = .overloaded
        return resume.answer(Self.overloaded)
      }
      let transaction = exchange.started()
      let found = phases(transaction)
      exchange.lines += transaction.takeLogLines()
      guard let found else { return resume.proceed() }
      // ModSecurity's line for the rule that blocked (its callback reports rules that only warn).
      if let line = found.log { exchange.lines.append(line) }
      exchange.outcome = .blocked
      resume.answer(Self.answer(for: found, message: message))
    }
    guard submitted else {
      call.suspension = nil
      exchange.outcome = .overloaded
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

/// One request's WAF state, from its head to its log line: handed between the loop and a pool thread, one
/// at a time.
final class WAFExchange: @unchecked Sendable {
  private let rules: WAFRules
  private let id: String
  /// Made by the first phase, on a WAF thread: ModSecurity's allocations for it stay on those threads.
  private(set) var transaction: WAFTransaction?
  /// Phase 5 has run (with the response phases, for a response let through).
  var logged = false
  var lines: [String] = []
  var requestInspected = false
  var responseInspected = false
  var outcome = Outcome.allowed

  enum Outcome {
    case allowed
    /// A rule answered instead of the upstream (or of its response).
    case blocked
    /// Refused with 503: the WAF's threads had no room.
    case overloaded
  }

  init(rules: WAFRules, id: String) {
    self.rules = rules
    self.id = id
  }

  func started() -> WAFTransaction {
    if let transaction { return transaction }
    let made = WAFTransaction(rules: rules, id: id)
    transaction = made
    return made
  }
}

/// `portico_waf_requests_total{rules,outcome}` on one loop: `allowed`, `blocked`, or `overloaded` (refused
/// with 503, the WAF's threads being full).
final class WAFSeries {
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
}
