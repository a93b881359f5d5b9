import NIOCore

/// A Redis reply (RESP2), as far as the commands Portico sends need.
public enum RESPValue: Sendable, Equatable {
  case simple(String)
  case error(String)
  case integer(Int64)
  case bulk(ByteBuffer?)
  case array([RESPValue]?)
}

/// Encodes commands as RESP arrays of bulk strings, several into one buffer for a pipeline.
enum RESPEncoder {
  static func write(_ command: [String], into buffer: inout ByteBuffer) {
    writeHeader(count: command.count, into: &buffer)
    for argument in command { writeBulk(argument, into: &buffer) }
  }

  /// `INCRBY key amount`, without building the command as an array first: it is sent for every key of
  /// every loop turn.
  static func writeIncrement(_ key: String, by amount: Int, into buffer: inout ByteBuffer) {
    writeHeader(count: 3, into: &buffer)
    buffer.writeStaticString("$6\r\nINCRBY\r\n")
    writeBulk(key, into: &buffer)
    writeBulk(String(amount), into: &buffer)
  }

  private static func writeHeader(count: Int, into buffer: inout ByteBuffer) {
    // Lengths are short strings (kept inline, no allocation); no interpolation per argument.
    buffer.writeInteger(UInt8(ascii: "*"))
    buffer.writeString(String(count))
    buffer.writeStaticString("\r\n")
  }

  private static func writeBulk(_ argument: String, into buffer: inout ByteBuffer) {
    buffer.writeInteger(UInt8(ascii: "$"))
    buffer.writeString(String(argument.utf8.count))
    buffer.writeStaticString("\r\n")
    buffer.writeString(argument)
    buffer.writeStaticString("\r\n")
  }
}

/// Decodes RESP2 replies, bounded: a bulk string over `maximumBulk` or an array over `maximumElements`
/// closes the connection rather than buffering without end.
struct RESPDecoder: ByteToMessageDecoder {
  typealias InboundOut = RESPValue

  static let maximumBulk = 1 << 20
  static let maximumElements = 1 << 16

  struct Malformed: Error, CustomStringConvertible {
    let description: String
  }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    var reader = buffer
    guard let value = try Self.parse(&reader) else { return .needMoreData }
    buffer = reader
    context.fireChannelRead(wrapInboundOut(value))
    return .continue
  }

  /// One value from the front of `buffer`, consuming it; nil (and `buffer` unchanged in meaning) when
  /// more bytes are needed.
  static func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
    let view = buffer.readableBytesView
    guard let end = view.firstIndex(of: UInt8(ascii: "\r")), end + 1 < view.endIndex,
      view[end + 1] == UInt8(ascii: "\n")
    else { return nil }
    guard end > view.startIndex else { throw Malformed(description: "empty reply line") }
    let kind = view[view.startIndex]
    let line = view[(view.startIndex + 1)..<end]
    buffer.moveReaderIndex(forwardBy: end + 2 - view.startIndex)
    // Integers (every count's reply) are read from the bytes; only text replies become strings.
    switch kind {
    case UInt8(ascii: "+"): return .simple(String(decoding: line, as: UTF8.self))
    case UInt8(ascii: "-"): return .error(String(decoding: line, as: UTF8.self))
    case UInt8(ascii: ":"):
      return .integer(try integer(line, "integer"))
    case UInt8(ascii: "$"):
      let length = try integer(line, "bulk length")
      guard length <= maximumBulk else { throw malformed(line, "bulk length") }
      if length < 0 { return .bulk(nil) }
      guard buffer.readableBytes >= Int(length) + 2, let bytes = buffer.readSlice(length: Int(length)) else {
        return nil
      }
      buffer.moveReaderIndex(forwardBy: 2)
      return .bulk(bytes)
    case UInt8(ascii: "*"):
      let count = try integer(line, "array length")
      guard count <= maximumElements else { throw malformed(line, "array length") }
      if count < 0 { return .array(nil) }
      var elements: [RESPValue] = []
      elements.reserveCapacity(Int(count))
      for _ in 0..<count {
        guard let element = try parse(&buffer) else { return nil }
        elements.append(element)
      }
      return .array(elements)
    default:
      throw Malformed(description: "unknown reply type '\(Character(Unicode.Scalar(kind)))'")
    }
  }

  /// A decimal integer with an optional minus sign, and nothing else.
  private static func integer(_ digits: ByteBufferView.SubSequence, _ what: String) throws -> Int64 {
    var rest = digits[...]
    let negative = rest.first == UInt8(ascii: "-")
    if negative { rest = rest.dropFirst() }
    guard !rest.isEmpty else { throw malformed(digits, what) }
    var value: Int64 = 0
    for byte in rest {
      guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw malformed(digits, what) }
      let (shifted, over) = value.multipliedReportingOverflow(by: 10)
      let (sum, overAgain) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
      guard !over, !overAgain else { throw malformed(digits, what) }
      value = sum
    }
    return negative ? -value : value
  }

  private static func malformed(_ bytes: ByteBufferView.SubSequence, _ what: String) -> Malformed {
    Malformed(description: "bad \(what) '\(String(decoding: bytes, as: UTF8.self))'")
  }
}
