import NIOCore
import PorticoCore

/// Text inside a JSON string: `"`, `\` and control characters escaped, everything else as it is (the text
/// is UTF-8 already). Runs of bytes that need no escape are copied whole.
enum JSONString {
  /// Writes `text` escaped, without the quotes around it.
  static func writeEscaped(_ text: Substring, into buffer: inout ByteBuffer) {
    let written: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
      writeEscaped(UnsafeRawBufferPointer(bytes), into: &buffer)
    }
    if written == nil {
      var copy = String(text)
      copy.withUTF8 { writeEscaped(UnsafeRawBufferPointer($0), into: &buffer) }
    }
  }

  private static func writeEscaped(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
    var runStart = 0
    for index in 0..<bytes.count {
      let byte = bytes[index]
      guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
      buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
      runStart = index + 1
      switch byte {
      case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
      case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
      case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
      case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
      case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
      default:
        buffer.writeStaticString("\\u00")
        buffer.writeInteger(UInt8.hexDigit(byte >> 4))
        buffer.writeInteger(UInt8.hexDigit(byte & 0xF))
      }
    }
    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]))
  }
}
