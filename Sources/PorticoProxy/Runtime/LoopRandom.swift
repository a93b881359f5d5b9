/// A fast random generator, seeded once per event loop: request IDs, weighted picks and balancing choices.
/// The system generator costs a system call per number on Linux, and Foundation's `UUID()` a file open,
/// read and close.
struct LoopRandom {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  init() {
    var system = SystemRandomNumberGenerator()
    state = (system.next(), system.next(), system.next(), system.next() | 1)
  }

  /// xoshiro256**: fast, and statistically sound for identifiers (not for secrets).
  /// A number in `0..<bound`.
  mutating func next(below bound: Int) -> Int {
    precondition(bound > 0)
    return Int(next() % UInt64(bound))
  }

  private mutating func next() -> UInt64 {
    let result = rotate(state.1 &* 5, 7) &* 9
    let shifted = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= shifted
    state.3 = rotate(state.3, 45)
    return result
  }

  private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
    (value << count) | (value >> (64 - count))
  }

  /// A random version-4 UUID string, for `x-request-id`.
  mutating func requestID() -> String {
    var high = next()
    var low = next()
    high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
    low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
    let hex: StaticString = "0123456789abcdef"
    return String(unsafeUninitializedCapacity: 36) { buffer in
      hex.withUTF8Buffer { digits in
        var position = 0
        func put(_ value: UInt64, nibbles: Int) {
          for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
            buffer[position] = digits[Int((value >> UInt64(shift)) & 0xF)]
            position += 1
          }
        }
        func dash() {
          buffer[position] = UInt8(ascii: "-")
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
      return 36
    }
  }
}
