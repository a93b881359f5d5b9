import NIOCore
import NIOEmbedded
import PorticoAPI
import PorticoTranslate

@testable import PorticoProxy

/// The filter layer without sockets: a run over test filters, on an embedded event loop, reporting to a
/// host that writes down what reaches it.
final class RecordingHost: FilterHost {
  enum Event: Equatable {
    case passedHead
    case needsBody
    case requestBody(String)
    case requestEnd
    case responseHead(bodyLength: Int?)
    case responseBody(String)
    case responseEnd
    case answered(Int, String?)
    case holdsReads(Bool)
    case flag(String)
  }

  private(set) var events: [Event] = []
  /// What the exchange counts of the client's body; tests set it.
  var requestBodyBytes = 0
  let requestID = RequestID.given("test-request")

  func filtersPassedRequestHead(wholeBodyLength: Int?) { events.append(.passedHead) }
  func filtersNeedRequestBody() { events.append(.needsBody) }
  func filteredRequestBody(_ piece: ByteBuffer) { events.append(.requestBody(String(buffer: piece))) }
  func filteredRequestEnd(_ trailers: ByteBuffer?) { events.append(.requestEnd) }
  func filteredResponseHead(bodyLength: Int?) { events.append(.responseHead(bodyLength: bodyLength)) }
  func filteredResponseBody(_ piece: ByteBuffer) { events.append(.responseBody(String(buffer: piece))) }
  func filteredResponseEnd(_ trailers: ByteBuffer?) { events.append(.responseEnd) }
  func filterAnswered(_ answer: LocalAnswer) { events.append(.answered(answer.status, answer.body)) }
  func holdClientReads(_ hold: Bool) { events.append(.holdsReads(hold)) }
  func note(_ flag: ResponseFlag) { events.append(.flag(flag.rawValue)) }

  /// The request body that reached the host, joined.
  var requestBody: String {
    events.compactMap { if case .requestBody(let text) = $0 { text } else { nil } }.joined()
  }

  var responseBody: String {
    events.compactMap { if case .responseBody(let text) = $0 { text } else { nil } }.joined()
  }
}

/// One event loop's context, as the gateway makes it, on an embedded loop.
func embeddedLoopContext(_ eventLoop: EmbeddedEventLoop) throws -> LoopContext {
  let translation = Translator().translate(ResourceSnapshot(), for: GatewayIdentity(name: "test"))
  let config = ActiveConfig(generation: 1, translation: translation, diagnostics: [], configDirectory: "/")
  let services = GatewayServices(
    metrics: GatewayMetrics(), accessLog: try AccessLog(.disabled), limits: HTTP1Limits(), maxConnections: 10)
  return LoopContext(eventLoop: eventLoop, config: config, services: services)
}

/// A run of `filters` over a request with `head` (the request line and fields, without the final CRLF).
func filterRun(
  _ filters: [any HTTPFilter], head: String = "POST /items HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5",
  bound: Int = 1 << 20, loop: LoopContext, host: RecordingHost
) throws -> FilterRun {
  let request = try RequestHead.parse(ByteBuffer(string: head + "\r\n\r\n"), limits: HTTP1Limits())
  return FilterRun(
    filters: RequestFilters(filters, bodyBound: BodyBound(bytes: bound)), request: request, loop: loop,
    clientAddress: "127.0.0.1", routeName: "test", host: host)
}

/// Records each hook it is called with, and does what it is told in each phase.
final class ScriptedFilter: HTTPFilter, @unchecked Sendable {
  var phases: FilterPhases
  var onRequestHead: (FilterCall) throws -> FilterVerdict = { _ in .proceed }
  var onRequestBody: (inout ByteBuffer, Bool, FilterCall) throws -> FilterVerdict = { _, _, _ in .proceed }
  var onResponseHead: (FilterCall) throws -> FilterVerdict = { _ in .proceed }
  var onResponseBody: (inout ByteBuffer, Bool, FilterCall) throws -> FilterVerdict = { _, _, _ in .proceed }
  private(set) var calls: [String] = []
  private(set) var logged = 0

  init(_ phases: FilterPhases) { self.phases = phases }

  func requestHead(_ call: FilterCall) throws -> FilterVerdict {
    calls.append("requestHead")
    return try onRequestHead(call)
  }

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict {
    calls.append("requestBody(\(String(buffer: body)),\(end))")
    return try onRequestBody(&body, end, call)
  }

  func responseHead(_ call: FilterCall) throws -> FilterVerdict {
    calls.append("responseHead(\(call.response?.status ?? 0))")
    return try onResponseHead(call)
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict {
    calls.append("responseBody(\(String(buffer: body)),\(end))")
    return try onResponseBody(&body, end, call)
  }

  func log(_ call: FilterCall) { logged += 1 }
}

struct FilterFailure: Error {}
