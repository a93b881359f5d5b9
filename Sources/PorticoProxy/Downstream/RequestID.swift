import NIOCore
import PorticoCore

/// A request's `x-request-id`: the one the client sent, or a random version-4 UUID the gateway made. A
/// made one is kept as its 128 bits and spelled out only where it is written, so that naming a request
/// costs no allocation.
enum RequestID {
  case given(Substring)
  case made(high: UInt64, low: UInt64)

  /// A version-4 UUID from 128 random bits, with its version and variant bits set (RFC 9562 §5.4).
  init(randomHigh high: UInt64, low: UInt64) {
    self = .made(
      high: (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000,
      low: (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
  }

  /// True when the client sent it: then it already travels among the request's own fields.
  var isGiven: Bool {
    if case .given = self { return true }
    return false
  }

  /// Appends the ID as sent; a made one in the UUID's 8-4-4-4-12 form.
  func write(into buffer: inout ByteBuffer) {
    switch self {
    case .given(let text): buffer.writeSubstring(text)
    case .made(let high, let low):
      buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 36) { bytes in
        Self.spell(high: high, low: low, into: bytes)
        return 36
      }
    }
  }

  var text: String {
    switch self {
    case .given(let text): return String(text)
    case .made(let high, let low):
      return String(unsafeUninitializedCapacity: 36) { bytes in
        Self.spell(high: high, low: low, into: UnsafeMutableRawBufferPointer(bytes))
        return 36
      }
    }
  }

  private static func spell(high: UInt64, low: UInt64, into bytes: UnsafeMutableRawBufferPointer) {
    var position = 0
    func put(_ value: UInt64, nibbles: Int) {
      for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
        bytes[position] = UInt8.hexDigit(UInt8((value >> UInt64(shift)) & 0xF))
        position += 1
      }
    }
    func dash() {
      bytes[position] = UInt8(ascii: "-")
      position += 1
    }
    put(high >> 32, nibbles: 8)
    dash()
    put((high >> 16) & 0xFFFF, nibbles: 4)
    dash()
    put(high & 0xFFFF, nibbles: 4)
    dash()
    put(low >> 48, nibbles: 4)
    dash()
    put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
  }
}
