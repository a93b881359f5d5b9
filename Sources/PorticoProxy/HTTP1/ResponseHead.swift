import NIOCore

/// A response head read from an upstream, with its status, framing and connection options decided once.
struct ResponseHead: ParsedHead {
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

  static func parse(
    _ bytes: UnsafeRawBufferPointer, limits: HTTP1Limits, fields: inout [FieldSpan]
  ) throws(HTTP1Error) -> ResponseHead {
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
    _ = try HeadParser.parseFields(
      bytes, from: position + 2, limits: limits, into: &fields, sawHighBit: &sawHighBit)

    let summary = try FieldSummary(bytes, fields)
    // Either could be how a response was smuggled in; neither can be passed on safely.
    guard summary.lengths <= 1 else { throw .badRequest("more than one Content-Length field") }
    guard !(summary.codings > 0 && summary.lengths > 0) else {
      throw .badRequest("both Content-Length and Transfer-Encoding")
    }
    let text = try HeadParser.text(of: bytes, sawHighBit: sawHighBit)
    return ResponseHead(
      head: MessageHead(text: text, fields: fields), status: status,
      keepAlive: summary.keepsAlive(minor: minor), listsConnectionOptions: summary.otherConnectionOptions,
      contentLength: summary.lengths == 1 ? summary.length : nil, hasTransferEncoding: summary.codings > 0,
      chunked: summary.finalCodingIsChunked, statusStart: 9, statusEnd: Int32(statusEnd))
  }
}
