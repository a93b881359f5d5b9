import NIOCore
import PorticoAPI

/// A route's `faultInjection`, ready to apply: a fixed delay and an abort status, each drawn on its own
/// for the given share of requests.
struct FaultRuntime: Sendable {
  let delay: TimeAmount?
  let abortStatus: Int?
  /// Out of `Self.scale`: the share of requests that get each fault.
  let threshold: Int

  static let scale = 1_000_000

  init?(_ fault: FaultInjection?) {
    guard let fault, fault.fixedDelay != nil || fault.abort != nil else { return nil }
    delay = fault.fixedDelay?.nanoseconds.map { .nanoseconds($0) }
    abortStatus = fault.abort.map { Int($0.httpStatus) }
    threshold = Int(((fault.percentage ?? 100) / 100 * Double(Self.scale)).rounded())
  }

  /// Whether this request gets the fault: one draw per fault, so delay and abort are independent.
  func applies(random: inout LoopRandom) -> Bool {
    threshold >= Self.scale || (threshold > 0 && random.next(below: Self.scale) < threshold)
  }
}
