import NIOCore

/// A response head read from an upstream, with its status, framing and connection options decided once.
struct ResponseHead {
  let head: MessageHead
  let status: Int
  let keepAlive: Bool
  let listsConnectionOptions: Bool
  let contentLength: Int?
  /// Transfer-Encoding is present; `chunked` says whether its final coding is chunked.
  let hasTransferEncoding: Bool
  let chunked: Bool
  /// The status line from the code on (`200 OK`), without the version and CRLF.
  private let statusStart: Int32
  private let statusEnd: Int32

  var statusLine: Substring { head.slice(statusStart, statusEnd) }

  /// 1xx other than 101: an interim response, followed by the real one.
  var isInterim: Bool { status >= 100 && status < 200 && status != 101 }

  /// How the body is delimited, given whether the request was HEAD (RFC 9112 §6.3).
  func framing(requestIsHEAD: Bool) -> BodyFraming {
    if requestIsHEAD || status < 200 || status == 204 || status == 304 { return .none }
    if hasTransferEncoding { return chunked ? .chunked : .untilClose }
    if let contentLength { return .length(contentLength) }
    return .untilClose
  }

  static func parse(_ buffer: ByteBuffer, limits: HTTP1Limits) throws(HTTP1Error) -> ResponseHead {
    try HeadParser.parsing(buffer) { bytes throws(HTTP1Error) in try parse(bytes, limits: limits) }
  }

  private static func parse(_ bytes: UnsafeRawBufferPointer, limits: HTTP1Limits) throws(HTTP1Error)
    -> ResponseHead
  {
    let minor = try HeadParser.version(bytes, at: 0)
    let count = bytes.count
    guard count > 12, bytes[8] == ByteClass.space else { throw .badRequest("invalid status line") }
    var status = 0
    for position in 9..<12 {
      let digit = bytes[position] &- UInt8(ascii: "0")
      guard digit < 10 else { throw .badRequest("invalid status code") }
      status = status * 10 + Int(digit)
    }
    guard status >= 100 else { throw .badRequest("invalid status code") }
    var position = 12
    var sawHighBit = false
    if bytes[position] == ByteClass.space {
      while position < count, bytes[position] != ByteClass.cr {
        guard ByteClass.isFieldValue(bytes[position]) else { throw .badRequest("invalid reason phrase") }
        if bytes[position] >= 0x80 { sawHighBit = true }
        position += 1
      }
    }
    let statusEnd = position
    guard position + 1 < count, bytes[position] == ByteClass.cr, bytes[position + 1] == ByteClass.lf else {
      throw .badRequest("status line does not end with CRLF")
    }
    var fields: [FieldSpan] = []
    fields.reserveCapacity(16)
    _ = try HeadParser.parseFields(
      bytes, from: position + 2, limits: limits, into: &fields, sawHighBit: &sawHighBit)

    var lengths = 0
    var length = 0
    var hasTransferEncoding = false
    var chunked = false
    var closeToken = false
    var keepAliveToken = false
    var listsConnectionOptions = false
    var upgradeToken = false
    for field in fields {
      switch field.kind {
      case .contentLength:
        lengths += 1
        length = try HeadParser.contentLength(bytes, field)
      case .transferEncoding:
        hasTransferEncoding = true
        chunked = finalCodingIsChunked(bytes, field)
      case .connection:
        ConnectionTokens.scan(
          bytes, field, close: &closeToken, keepAlive: &keepAliveToken, upgrade: &upgradeToken,
          others: &listsConnectionOptions)
      default:
        break
      }
    }
    // Either could be how a response was smuggled in; neither can be passed on safely.
    guard lengths <= 1 else { throw .badRequest("more than one Content-Length field") }
    guard !(hasTransferEncoding && lengths > 0) else {
      throw .badRequest("both Content-Length and Transfer-Encoding")
    }
    let text = try HeadParser.text(of: bytes, sawHighBit: sawHighBit)
    return ResponseHead(
      head: MessageHead(text: text, fields: fields), status: status,
      keepAlive: minor >= 1 ? !closeToken : keepAliveToken && !closeToken,
      listsConnectionOptions: listsConnectionOptions, contentLength: lengths == 1 ? length : nil,
      hasTransferEncoding: hasTransferEncoding, chunked: chunked, statusStart: 9, statusEnd: Int32(statusEnd))
  }

  /// True when the last coding listed in `field` is `chunked`.
  private static func finalCodingIsChunked(_ bytes: UnsafeRawBufferPointer, _ field: FieldSpan) -> Bool {
    var end = Int(field.valueEnd)
    let start = Int(field.valueStart)
    var begin = end
    while begin > start, bytes[begin - 1] != UInt8(ascii: ",") { begin -= 1 }
    while begin < end, ByteClass.isWhitespace(bytes[begin]) { begin += 1 }
    while end > begin, ByteClass.isWhitespace(bytes[end - 1]) { end -= 1 }
    return end - begin == 7 && KnownField.matches(bytes, at: begin, "chunked")
  }
}
