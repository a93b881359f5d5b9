import PorticoAPI

/// A counter in its window: fixed windows aligned to the unit (a MINUTE window starts on the minute), as
/// Envoy's rate-limit service counts.
public struct WindowedCounter: Hashable, Sendable {
  public let counter: String
  public let unit: RateLimit.Unit

  public init(counter: String, unit: RateLimit.Unit) {
    self.counter = counter
    self.unit = unit
  }

  /// The key every gateway adds to in a shared store: the counter, its unit and its window's number.
  public func sharedKey(at now: Int64) -> String {
    "portico:rl:\(counter):\(unit.seconds):\(unit.window(at: now))"
  }
}

extension RateLimit.Unit {
  /// The number of the window `now` (seconds since 1970) falls in.
  public func window(at now: Int64) -> Int64 { now / Int64(seconds) }

  /// Seconds from `now` until its window ends.
  public func secondsLeft(at now: Int64) -> Int64 { Int64(seconds) - now % Int64(seconds) }
}

/// Where counts are kept: in the gateway, or shared by every gateway.
public protocol RateLimitCounterStore: Sendable {
  /// Adds one to the hit's counter in its current window and returns the count after; nil when the store
  /// cannot answer (the caller fails open or closed as configured).
  func increment(_ hit: RuleHit, at now: Int64) -> UInt32?
}
