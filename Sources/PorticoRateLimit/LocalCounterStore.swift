import PorticoAPI
import Synchronization

/// Counters in the gateway's memory, exact for the whole process whatever the number of event loops: an
/// open-addressing table of slots, each one double-word atomic holding a counter's fingerprint and its
/// window, unit and count, so that a request adds to its counters with compare-and-swap and no lock. A slot
/// whose window has passed is taken over by the next counter that needs it; when none of a counter's
/// probe slots is free or stale (the table holds `capacity` counters of the current windows), the store
/// answers nil and the caller fails open.
public final class LocalCounterStore: RateLimitCounterStore, @unchecked Sendable {
  // @unchecked: the slots are only ever touched through their atomics.
  private let slots: UnsafeMutablePointer<Atomic<WordPair>>
  private let mask: Int
  private static let probes = 32

  /// Room for about `capacity` live counters (rounded up to a power of two).
  public init(capacity: Int = 1 << 16) {
    var size = 1
    while size < max(capacity, 64) { size <<= 1 }
    mask = size - 1
    slots = .allocate(capacity: size)
    for index in 0..<size { (slots + index).initialize(to: Atomic(WordPair(first: 0, second: 0))) }
  }

  deinit {
    slots.deinitialize(count: mask + 1)
    slots.deallocate()
  }

  public func increment(_ hit: RuleHit, at now: Int64) -> UInt32? {
    var hasher = Hasher()
    hit.hashCounter(into: &hasher)
    return increment(Self.fingerprint(hasher, hit.limit.unit), hit.limit.unit, at: now)
  }

  /// The same for counters given directly, in turn (a counter and unit count together with a hit's); nil
  /// when one of them finds no slot.
  public func increment(_ counters: [WindowedCounter], at now: Int64) -> [UInt32]? {
    var counts: [UInt32] = []
    for counter in counters {
      var hasher = Hasher()
      hasher.combineBytes(of: counter.counter)
      guard let count = increment(Self.fingerprint(hasher, counter.unit), counter.unit, at: now) else {
        return nil
      }
      counts.append(count)
    }
    return counts
  }

  private func increment(_ fingerprint: UInt, _ unit: RateLimit.Unit, at now: Int64) -> UInt32? {
    let window = Self.window(of: unit, at: now)
    var index = Int(fingerprint & UInt(mask))
    for _ in 0..<Self.probes {
      var current = slots[index].load(ordering: .relaxed)
      while true {
        let state = SlotState(current.second)
        let claimable = current.first == 0 || state.window != Self.window(of: state.unit, at: now)
        guard current.first == fingerprint || claimable else { break }
        let count: UInt32 =
          current.first == fingerprint && state.window == window ? min(state.count, SlotState.maximum) + 1 : 1
        let desired = WordPair(
          first: fingerprint, second: SlotState(window: window, unit: unit, count: count).packed)
        let (exchanged, original) = slots[index].compareExchange(
          expected: current, desired: desired, ordering: .relaxed)
        if exchanged { return count }
        current = original
      }
      index = (index + 1) & mask
    }
    return nil
  }

  /// The window's number, in the 32 bits a slot keeps (seconds since 1970 fit until 2106).
  private static func window(of unit: RateLimit.Unit, at now: Int64) -> UInt {
    UInt(truncatingIfNeeded: unit.window(at: now)) & 0xFFFF_FFFF
  }

  /// A non-zero 64-bit fingerprint of a counter (its name's bytes already in `hasher`) and its unit (zero
  /// marks a free slot).
  private static func fingerprint(_ hasher: consuming Hasher, _ unit: RateLimit.Unit) -> UInt {
    hasher.combine(unit)
    let value = UInt(bitPattern: hasher.finalize())
    return value == 0 ? 1 : value
  }
}

/// A slot's second word: the window (32 bits), the unit (2 bits), the count (30 bits).
private struct SlotState {
  static let maximum: UInt32 = (1 << 30) - 1
  let window: UInt
  let unit: RateLimit.Unit
  let count: UInt32

  init(window: UInt, unit: RateLimit.Unit, count: UInt32) {
    self.window = window & 0xFFFF_FFFF
    self.unit = unit
    self.count = min(count, Self.maximum)
  }

  init(_ packed: UInt) {
    window = packed >> 32
    // A switch, not `allCases[...]`: that builds an array on every call, and this runs per request.
    switch (packed >> 30) & 0b11 {
    case 0: unit = .second
    case 1: unit = .minute
    case 2: unit = .hour
    default: unit = .day
    }
    count = UInt32(packed & UInt(Self.maximum))
  }

  var packed: UInt {
    let code: UInt =
      switch unit {
      case .second: 0
      case .minute: 1
      case .hour: 2
      case .day: 3
      }
    return (window << 32) | (code << 30) | UInt(count)
  }
}
