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

  /// A random version-4 UUID, for `x-request-id`.
  mutating func requestID() -> RequestID {
    RequestID(randomHigh: next(), low: next())
  }
}
