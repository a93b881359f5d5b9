import NIOCore
import PorticoAPI

/// A route's `faultInjection`, ready to apply: a fixed delay and an abort status, each drawn on its own
/// for the given share of requests.
struct FaultRules: Sendable {
  let delay: TimeAmount?
  let abortStatus: Int?
  /// The share of requests that get each fault.
  let share: RequestShare

  init(_ fault: FaultInjection) {
    delay = fault.fixedDelay?.nanoseconds.map { .nanoseconds($0) }
    abortStatus = fault.abort.map { Int($0.httpStatus) }
    share = RequestShare(percentage: fault.percentage)
  }

  /// Whether this request gets the fault: one draw per fault, so delay and abort are independent.
  func applies(random: inout LoopRandom) -> Bool { share.includes(random: &random) }
}
