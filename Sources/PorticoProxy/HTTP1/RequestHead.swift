import NIOCore
import PorticoRouting

/// A request head read from a client, with what the gateway needs decided once: where the target's parts
/// lie, the authority, the body's framing and whether the connection stays open.
struct RequestHead: RequestView, ParsedHead {
  enum Method: UInt8 { case get, head, post, put, patch, options, other }

  let head: MessageHead
  let methodKind: Method
  let isHTTP10: Bool
  let keepAlive: Bool
  let expectsContinue: Bool
  let framing: BodyFraming
  /// `Connection` names fields beyond `close` and `keep-alive`; they are hop-by-hop too.
  let listsConnectionOptions: Bool
  /// The target was in absolute form (`http://host/path`): its authority replaces `Host`.
  let isAbsoluteForm: Bool
  /// A WebSocket handshake (RFC 6455 §4.1): `GET` over HTTP/1.1 without a body, with `Connection:
  /// upgrade` and `Upgrade: websocket`. It is forwarded with those fields, and a 101 answer turns the
  /// exchange into a two-way byte stream.
  let upgradesToWebSocket: Bool
  private let methodEnd: Int32
  private let originStart: Int32
  private let queryMark: Int32
  private let targetEnd: Int32
  private let authorityStart: Int32
  private let authorityEnd: Int32

  var method: Substring { head.slice(0, methodEnd) }
  var authority: Substring { head.slice(authorityStart, authorityEnd) }
  var path: Substring {
    originStart == queryMark ? "/" : head.slice(originStart, queryMark)
  }
  var query: Substring { queryMark == targetEnd ? "" : head.slice(queryMark + 1, targetEnd) }

  /// The target in origin form (path and query), as it is forwarded.
  var originForm: Substring {
    guard originStart == queryMark else { return head.slice(originStart, targetEnd) }
    return queryMark == targetEnd ? "/" : "/" + head.slice(queryMark, targetEnd)
  }

  func containsHeader(_ lowercasedName: String, where body: (Substring) -> Bool) -> Bool {
    for field in head.fields where head.isNamed(field, lowercasedName) {
      if body(head.value(of: field)) { return true }
    }
    return false
  }

  /// RFC 9112 §3.2.3: `uri-host ":" port`, the port one to five digits.
  private static func isAuthorityForm(_ bytes: UnsafeRawBufferPointer, _ target: Range<Int>) -> Bool {
    var colon = target.upperBound - 1
    while colon >= target.lowerBound, bytes[colon].isASCIIDigit { colon -= 1 }
    let digits = target.upperBound - 1 - colon
    guard colon > target.lowerBound, bytes[colon] == UInt8(ascii: ":"), (1...5).contains(digits) else {
      return false
    }
    for position in target.lowerBound..<colon {
      let byte = bytes[position]
      if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { return false }
    }
    return true
  }

  static func parse(
    _ bytes: UnsafeRawBufferPointer, limits: HTTP1Limits, fields: inout [FieldSpan]
  ) throws(HTTP1Error) -> RequestHead {
    let count = bytes.count
    var position = 0
    while position < count, ByteClass.isToken(bytes[position]) { position += 1 }
    guard position > 0, position < count, bytes[position] == ByteClass.space else {
      throw .badRequest("invalid method")
    }
    let methodEnd = position
    let methodKind = method(bytes, end: methodEnd)
    position += 1
    let targetStart = position
    var sawHighBit = false
    var queryMark = -1
    while position < count, ByteClass.isTarget(bytes[position]) {
      if bytes[position] >= 0x80 { sawHighBit = true }
      if queryMark < 0, bytes[position] == UInt8(ascii: "?") { queryMark = position }
      position += 1
    }
    guard position > targetStart, position < count, bytes[position] == ByteClass.space else {
      throw .badRequest("invalid request target")
    }
    let targetEnd = position
    if KnownField.matchesExactly(bytes, at: 0, "CONNECT ") {
      // A malformed request comes first: CONNECT needs an authority-form target, `host:port`.
      guard isAuthorityForm(bytes, targetStart..<targetEnd) else {
        throw .badRequest("CONNECT needs a target of the form host:port")
      }
      throw HTTP1Error(status: 405, reason: "CONNECT is not supported")
    }
    if queryMark < 0 { queryMark = targetEnd }
    let minor = try HeadParser.version(bytes, at: position + 1)
    position += 9
    guard position <= limits.maxRequestLineBytes else { throw .uriTooLong() }
    guard position + 1 < count, bytes[position] == ByteClass.cr, bytes[position + 1] == ByteClass.lf else {
      throw .badRequest("request line does not end with CRLF")
    }
    _ = try HeadParser.parseFields(
      bytes, from: position + 2, limits: limits, into: &fields, sawHighBit: &sawHighBit)

    // Target form (RFC 9112 §3.2).
    var originStart = targetStart
    var authority: (start: Int, end: Int)?
    if bytes[targetStart] != UInt8(ascii: "/") {
      if targetEnd - targetStart == 1, bytes[targetStart] == UInt8(ascii: "*"), methodKind == .options {
        originStart = targetStart
      } else if let afterScheme = absoluteScheme(bytes, at: targetStart) {
        var end = afterScheme
        while end < targetEnd, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?") {
          guard ByteClass.isAuthority(bytes[end]) else { throw .badRequest("invalid authority in target") }
          end += 1
        }
        guard end > afterScheme else { throw .badRequest("absolute target without a host") }
        authority = (afterScheme, end)
        originStart = end
      } else {
        throw .badRequest("invalid request target")
      }
    }

    let summary = try FieldSummary(bytes, fields)
    let framing: BodyFraming
    if summary.codings > 0 {
      guard minor >= 1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
      guard summary.lengths == 0 else { throw .badRequest("both Content-Length and Transfer-Encoding") }
      guard summary.codings == 1 else { throw .badRequest("more than one Transfer-Encoding field") }
      guard summary.codingIsChunked else { throw .notImplemented("transfer coding other than chunked") }
      framing = .chunked
    } else if summary.lengths > 1 {
      throw .badRequest("more than one Content-Length field")
    } else {
      framing = summary.lengths == 1 ? .length(summary.length) : .none
    }
    guard summary.hosts <= 1 else { throw .badRequest("more than one Host field") }
    guard summary.hosts == 1 || minor == 0 else { throw .badRequest("missing Host field") }
    if let host = summary.host {
      for position in Int(host.valueStart)..<Int(host.valueEnd) where !ByteClass.isAuthority(bytes[position])
      {
        throw .badRequest("invalid Host")
      }
    }
    let authoritySpan = authority ?? summary.host.map { (Int($0.valueStart), Int($0.valueEnd)) } ?? (0, 0)
    let text = try HeadParser.text(of: bytes, sawHighBit: sawHighBit)
    return RequestHead(
      head: MessageHead(text: text, fields: fields), methodKind: methodKind, isHTTP10: minor == 0,
      keepAlive: summary.keepsAlive(minor: minor), expectsContinue: summary.expectsContinue,
      framing: framing, listsConnectionOptions: summary.otherConnectionOptions,
      isAbsoluteForm: authority != nil,
      upgradesToWebSocket: summary.upgrade && summary.upgradesToWebSocket && methodKind == .get && minor >= 1
        && framing == .none,
      methodEnd: Int32(methodEnd), originStart: Int32(originStart), queryMark: Int32(queryMark),
      targetEnd: Int32(targetEnd), authorityStart: Int32(authoritySpan.0),
      authorityEnd: Int32(authoritySpan.1))
  }

  private static func method(_ bytes: UnsafeRawBufferPointer, end: Int) -> Method {
    switch end {
    case 3:
      if KnownField.matchesExactly(bytes, at: 0, "GET") { return .get }
      if KnownField.matchesExactly(bytes, at: 0, "PUT") { return .put }
    case 4:
      if KnownField.matchesExactly(bytes, at: 0, "HEAD") { return .head }
      if KnownField.matchesExactly(bytes, at: 0, "POST") { return .post }
    case 5:
      if KnownField.matchesExactly(bytes, at: 0, "PATCH") { return .patch }
    case 7:
      if KnownField.matchesExactly(bytes, at: 0, "OPTIONS") { return .options }
    default:
      break
    }
    return .other
  }

  /// The offset after `http://` or `https://` (any case) at `start`, or nil.
  private static func absoluteScheme(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int? {
    if KnownField.matches(bytes, at: start, "http://") { return start + 7 }
    if KnownField.matches(bytes, at: start, "https://") { return start + 8 }
    return nil
  }
}
