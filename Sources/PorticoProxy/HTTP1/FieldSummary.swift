/// What the fields a gateway acts on say, read in one pass over a head (request or response): lengths,
/// transfer codings, connection options, and the request-only `Host`, `Upgrade` and `Expect`. The head's
/// parser then decides what they mean together.
struct FieldSummary {
  var lengths = 0
  /// The last `Content-Length` value read.
  var length = 0
  var codings = 0
  /// The last `Transfer-Encoding` field is exactly `chunked`.
  var codingIsChunked = false
  /// The last coding listed in the last `Transfer-Encoding` field is `chunked`.
  var finalCodingIsChunked = false
  var close = false
  var keepAlive = false
  var upgrade = false
  var otherConnectionOptions = false
  var hosts = 0
  var host: FieldSpan?
  var upgradesToWebSocket = false
  var expectsContinue = false

  init(_ bytes: UnsafeRawBufferPointer, _ fields: [FieldSpan]) throws(HTTP1Error) {
    for field in fields {
      switch field.kind {
      case .host:
        hosts += 1
        host = field
      case .contentLength:
        lengths += 1
        length = try HeadParser.contentLength(bytes, field)
      case .transferEncoding:
        codings += 1
        codingIsChunked = Self.value(of: field, in: bytes, is: "chunked")
        finalCodingIsChunked = Self.finalCodingIsChunked(bytes, field)
      case .connection:
        ConnectionTokens.scan(
          bytes, field, close: &close, keepAlive: &keepAlive, upgrade: &upgrade,
          others: &otherConnectionOptions)
      case .upgrade:
        upgradesToWebSocket = Self.value(of: field, in: bytes, is: "websocket")
      case .expect:
        expectsContinue = Self.value(of: field, in: bytes, is: "100-continue")
      default:
        break
      }
    }
  }

  /// Whether the connection stays open after this message, for an HTTP/1.`minor` peer.
  func keepsAlive(minor: Int) -> Bool { minor >= 1 ? !close : keepAlive && !close }

  /// True when the field's whole value is `text`, ignoring ASCII case.
  private static func value(of field: FieldSpan, in bytes: UnsafeRawBufferPointer, is text: StaticString)
    -> Bool
  {
    Int(field.valueEnd - field.valueStart) == text.utf8CodeUnitCount
      && KnownField.matches(bytes, at: Int(field.valueStart), text)
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
