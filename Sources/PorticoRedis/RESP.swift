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
    // Lengths are short strings (kept inline, no allocation); no interpolation per argument.
    buffer.writeInteger(UInt8(ascii: "*"))
    buffer.writeString(String(command.count))
    buffer.writeStaticString("\r\n")
    for argument in command {
      buffer.writeInteger(UInt8(ascii: "$"))
      buffer.writeString(String(argument.utf8.count))
      buffer.writeStaticString("\r\n")
      buffer.writeString(argument)
      buffer.writeStaticString("\r\n")
    }
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
    guard let line = readLine(&buffer) else { return nil }
    guard let kind = line.first else { throw Malformed(description: "empty reply line") }
    let rest = String(line.dropFirst())
    switch kind {
    case "+": return .simple(rest)
    case "-": return .error(rest)
    case ":":
      guard let value = Int64(rest) else { throw Malformed(description: "bad integer '\(rest)'") }
      return .integer(value)
    case "$":
      guard let length = Int(rest), length <= maximumBulk else {
        throw Malformed(description: "bad bulk length '\(rest)'")
      }
      if length < 0 { return .bulk(nil) }
      guard buffer.readableBytes >= length + 2, let bytes = buffer.readSlice(length: length) else {
        return nil
      }
      buffer.moveReaderIndex(forwardBy: 2)
      return .bulk(bytes)
    case "*":
      guard let count = Int(rest), count <= maximumElements else {
        throw Malformed(description: "bad array length '\(rest)'")
      }
      if count < 0 { return .array(nil) }
      var elements: [RESPValue] = []
      elements.reserveCapacity(count)
      for _ in 0..<count {
        guard let element = try parse(&buffer) else { return nil }
        elements.append(element)
      }
      return .array(elements)
    default:
      throw Malformed(description: "unknown reply type '\(kind)'")
    }
  }

  private static func readLine(_ buffer: inout ByteBuffer) -> String? {
    let view = buffer.readableBytesView
    guard let end = view.firstIndex(of: UInt8(ascii: "\r")), end + 1 < view.endIndex,
      view[end + 1] == UInt8(ascii: "\n")
    else { return nil }
    let length = end - view.startIndex
    let line = buffer.readString(length: length)
    buffer.moveReaderIndex(forwardBy: 2)
    return line
  }
}
