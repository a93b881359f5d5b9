/// Reads the options of a `Connection` field (RFC 9110 §7.6.1).
enum ConnectionTokens {
  /// Notes `close`, `keep-alive`, `upgrade` and whether any other option is listed.
  static func scan(
    _ bytes: UnsafeRawBufferPointer, _ field: FieldSpan, close: inout Bool, keepAlive: inout Bool,
    upgrade: inout Bool, others: inout Bool
  ) {
    var position = Int(field.valueStart)
    let end = Int(field.valueEnd)
    while position < end {
      while position < end, bytes[position] == UInt8(ascii: ",") || ByteClass.isWhitespace(bytes[position]) {
        position += 1
      }
      let start = position
      while position < end, bytes[position] != UInt8(ascii: ","), !ByteClass.isWhitespace(bytes[position]) {
        position += 1
      }
      switch position - start {
      case 0: break
      case 5 where KnownField.matches(bytes, at: start, "close"): close = true
      case 10 where KnownField.matches(bytes, at: start, "keep-alive"): keepAlive = true
      case 7 where KnownField.matches(bytes, at: start, "upgrade"): upgrade = true
      default: others = true
      }
    }
  }
}
