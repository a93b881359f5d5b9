import NIOCore
import PorticoTranslate

/// A request policy: one object per distinct setting, compiled once per configuration and shared by every
/// route with that setting (and so by every event loop). It implements only the phases it needs; the layer
/// calls no other. Per-request state lives in the `FilterCall`, per-loop state in `FilterCall.loopState`.
///
/// Phases, as a request goes through them (responses visit the filters in reverse order):
/// - `requestHead`: answer locally, edit the head sent upstream, suspend, or wait for the whole body;
/// - `requestBody`: pass each piece (edited or replaced), buffer up to the route's bound, answer, or suspend;
/// - `responseHead`: edit the head sent to the client, or wait for the whole body;
/// - `responseBody`: transform pieces as they stream (holding a bounded window of its own if it must);
/// - `log`: once, when the exchange is over, whatever its outcome.
protocol HTTPFilter: AnyObject, Sendable {
  var phases: FilterPhases { get }
  func requestHead(_ call: FilterCall) throws -> FilterVerdict
  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict
  func responseHead(_ call: FilterCall) throws -> FilterVerdict
  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict
  func log(_ call: FilterCall)
}

extension HTTPFilter {
  func requestHead(_ call: FilterCall) throws -> FilterVerdict { .proceed }
  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict {
    .proceed
  }
  func responseHead(_ call: FilterCall) throws -> FilterVerdict { .proceed }
  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict {
    .proceed
  }
  func log(_ call: FilterCall) {}
}

/// The hooks a filter has.
struct FilterPhases: OptionSet, Sendable {
  let rawValue: UInt8

  static let requestHead = FilterPhases(rawValue: 1 << 0)
  static let requestBody = FilterPhases(rawValue: 1 << 1)
  static let responseHead = FilterPhases(rawValue: 1 << 2)
  static let responseBody = FilterPhases(rawValue: 1 << 3)
  static let log = FilterPhases(rawValue: 1 << 4)
  /// The filter may change the request body's length: the request goes upstream with its length
  /// counted again, or chunked.
  static let rewritesRequestBody = FilterPhases(rawValue: 1 << 5)
  /// The filter may change the response body's length.
  static let rewritesResponseBody = FilterPhases(rawValue: 1 << 6)
}

/// What a filter decides in a phase.
enum FilterVerdict: Sendable {
  /// Go on to the next filter (the piece, in body phases, as the filter left it).
  case proceed
  /// Answer the request from the gateway; nothing goes (further) upstream.
  case answer(LocalAnswer)
  /// The filter has taken `call.suspend()` and will resume the request through it. Client reads pause.
  case suspend
  /// Head phases: hold the message until its whole body has arrived (up to the route's bound), then hand
  /// it to this filter's body hook in one piece with `end` set. Body phases: keep this piece and the ones
  /// after it until the end, then hand them over the same way.
  case buffer
}

/// An answer made by the gateway: by a filter, or by the core (no route, no healthy upstream, timeouts).
struct LocalAnswer: Sendable {
  var status: Int
  var body: String?
  var fields: [(name: String, value: String)] = []
  /// Set by the filter that made it, for the access log (`FI`, say).
  var flag: ResponseFlag?
  /// The rest of the request body will not be read: the connection closes after the answer.
  var closesConnection = false
}

/// A filter family: how a route's effective options become its filter. One registration line in
/// `FilterRegistry` adds a family.
protocol ConfiguredFilter: HTTPFilter {
  /// What the filter is built from; equal settings share one filter.
  associatedtype Settings: Hashable & Sendable
  /// Nil when the route asks nothing of this filter (most read its effective options).
  static func settings(for route: RouteConfig) -> Settings?
  init(_ settings: Settings)
  /// The same, for a family that needs something of the gateway's (most do not).
  init(_ settings: Settings, gateway: FilterEnvironment)
}

extension ConfiguredFilter {
  init(_ settings: Settings, gateway: FilterEnvironment) { self.init(settings) }
}

/// What of the gateway's own settings filters may be built with.
struct FilterEnvironment: Sendable {
  /// Where WAF audit entries go (`--waf-audit-log`).
  var wafAuditLog = "waf-audit.log"
}
