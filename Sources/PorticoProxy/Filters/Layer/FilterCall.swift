import NIOCore

/// What the filters of one request share, made only for a route that has filters: the request as
/// received, the changes filters ask for on the heads, the response as it comes back, and one slot of
/// per-request state for each filter. Touched only on the request's event loop. The `FilterRun` that drives
/// the phases is the same object (a subclass), so a filtered request makes one object for the layer.
class FilterCall {
  let request: RequestHead
  let loop: LoopContext
  let clientAddress: String
  /// The name of the route the request matched.
  let routeName: String
  /// Changes to the request head sent upstream, after the route's own header manipulation: identity
  /// fields a filter adds, credentials it strips.
  var upstreamHeaders = FieldEdits()
  /// Changes to the response head sent to the client, after the route's own header manipulation.
  var responseHeaders = FieldEdits()
  /// Query parameters taken out of the request sent upstream (a bearer token read from the query).
  var removedQueryParameters: [String] = []
  /// Query parameters set on the request sent upstream, in place of any the client sent under the name.
  var setQueryParameters: [(name: String, value: String)] = []
  /// Changes to the response head that request-phase filters asked for when they let the request through
  /// (an auth service's headers for the client), applied in the response-head phase.
  var responseHeadersOnPass = FieldEdits()
  /// The request body auth checks see (cut to the settings' bound when partial bodies are allowed), whether
  /// it was cut, and whether an ext_authz server gets it as bytes.
  var bodyForAuth: (bytes: ByteBuffer, partial: Bool, packed: Bool)?
  /// The bearer token a JWT step verified for this request, as the request carries it.
  var verifiedJWT: Substring?
  /// The WAF's transaction for this request, from its head to its log line.
  var waf: WAFExchange?
  /// What DLP holds back of this response's body for its next piece.
  var dlp: DLPStream?
  /// DLP's masker for this request's access-log line (`enabledFor: ACCESS_LOGS`).
  var accessLogMasker: DLPMasker?
  /// The transformation entries that apply to the request and to its response, once chosen.
  var requestTransformation = TransformationPick.undecided
  var responseTransformation = TransformationPick.undecided
  /// Query parameters the access log leaves out, whatever the request's fate (where tokens are read).
  var queryParametersHiddenFromLogs: [String] = []
  /// The response on its way back: set before the response-head phase.
  private(set) var response: ResponseView?
  /// Request body bytes received from the client so far.
  var requestBodyBytes: Int { host.requestBodyBytes }
  /// The most of a body a filter may have the layer keep whole (`.buffer`).
  var bodyBound: BodyBound { .filter }
  /// One slot per filter, made when a filter first keeps state.
  private var states: [AnyObject?] = []
  private let filterCount: Int
  /// Set while a filter has suspended the request.
  var suspension: FilterResume?
  /// The exchange, which owns this call. Unowned: a weak reference would cost an allocation per request;
  /// a filter keeps `suspend()`'s handle, never the call itself.
  unowned let host: any FilterHost

  init(
    request: RequestHead, loop: LoopContext, clientAddress: String, routeName: String, filterCount: Int,
    host: any FilterHost
  ) {
    self.request = request
    self.loop = loop
    self.clientAddress = clientAddress
    self.routeName = routeName
    self.filterCount = filterCount
    self.host = host
  }

  /// The per-request state of the filter at `index` in the route's chain, made on first use.
  func state<State: AnyObject>(at index: Int, make: () -> State) -> State {
    if states.isEmpty { states = Array(repeating: nil, count: filterCount) }
    if let state = states[index] as? State { return state }
    let state = make()
    states[index] = state
    return state
  }

  /// Adds a flag to the request's access log line (`DI` for an injected delay, say).
  func flag(_ flag: ResponseFlag) { host.note(flag) }

  /// What the filter keeps on this event loop under `key` (a cache, a connection, counters), made on
  /// first use and found again by every request on the loop, across reloads. No lock: one loop uses it.
  func loopState<State: AnyObject>(_ key: LoopStateKey, make: () -> State) -> State {
    loop.filterState(key, make: make)
  }

  /// Hands the request to work elsewhere; the filter returns `.suspend` and the request goes on (or is
  /// answered) when the handle says so, on this loop. A handle used after the request ended does nothing.
  func suspend() -> FilterResume {
    let resume = FilterResume(call: self, eventLoop: loop.eventLoop)
    suspension = resume
    return resume
  }

  func respond(with response: ResponseView) { self.response = response }

  /// A suspended filter's handle said how to go on; the run takes it from there.
  func resumed(with verdict: FilterVerdict) {}
}

/// A response as the response phases see it: an upstream's, or an answer the gateway makes.
struct ResponseView {
  private enum Source {
    case upstream(ResponseHead)
    case local([(name: String, value: String)])
  }

  let status: Int
  private let source: Source

  init(_ response: ResponseHead) {
    status = response.status
    source = .upstream(response)
  }

  init(answer: LocalAnswer) {
    status = answer.status
    source = .local(answer.fields)
  }

  /// The upstream's response, not one the gateway made.
  var isFromUpstream: Bool {
    if case .upstream = source { return true }
    return false
  }

  /// Every field, in order.
  func forEachField(_ body: (Substring, Substring) -> Void) {
    switch source {
    case .upstream(let response):
      for field in response.head.fields {
        body(response.head.name(of: field), response.head.value(of: field))
      }
    case .local(let fields):
      for field in fields { body(field.name[...], field.value[...]) }
    }
  }

  /// Whether some value of the field named `lowercasedName` satisfies `body` (which stops the search).
  func containsHeader(_ lowercasedName: String, where body: (Substring) -> Bool) -> Bool {
    switch source {
    case .upstream(let response):
      return response.head.fields.contains {
        response.head.isNamed($0, lowercasedName) && body(response.head.value(of: $0))
      }
    case .local(let fields):
      return fields.contains { $0.name.equalsIgnoringASCIICase(lowercasedName) && body($0.value[...]) }
    }
  }

  /// The first value of the field named `lowercasedName`.
  func field(_ lowercasedName: String) -> Substring? {
    switch source {
    case .upstream(let response): response.head.firstValue(named: lowercasedName)
    case .local(let fields):
      fields.first { $0.name.equalsIgnoringASCIICase(lowercasedName) }.map { $0.value[...] }
    }
  }
}

/// Resumes a suspended request from any thread: the request continues on its own loop, unless it has
/// ended (answered, timed out, or its client gone), in which case nothing runs.
final class FilterResume: Sendable {
  private let eventLoop: EventLoop
  private nonisolated(unsafe) weak var call: FilterCall?
  private nonisolated(unsafe) var cancellation: (() -> Void)?

  /// Runs `cancel` on the loop if the request ends while suspended (to stop a timer, say).
  func onCancel(_ cancel: @escaping () -> Void) { cancellation = cancel }

  /// The request ended while waiting on this handle.
  func cancel() {
    let cancel = cancellation
    cancellation = nil
    cancel?()
  }

  init(call: FilterCall, eventLoop: EventLoop) {
    self.call = call
    self.eventLoop = eventLoop
  }

  /// Goes on with the next filter.
  func proceed() { finish(.proceed) }

  /// Answers the request instead.
  func answer(_ answer: LocalAnswer) { finish(.answer(answer)) }

  private func finish(_ verdict: FilterVerdict) {
    if eventLoop.inEventLoop {
      resume(verdict)
    } else {
      eventLoop.execute { self.resume(verdict) }
    }
  }

  /// On the loop: only the handle the request is waiting on counts, and only once.
  private func resume(_ verdict: FilterVerdict) {
    cancellation = nil
    guard let call, call.suspension === self else { return }
    call.suspension = nil
    call.resumed(with: verdict)
  }
}
