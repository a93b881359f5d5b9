import PorticoAPI
import PorticoTranslate

/// `faultInjection`: delays the request (it waits suspended, its deadline running), aborts it with the
/// configured status, or both, each on its own share of requests.
final class FaultFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead]
  private let rules: FaultRules

  static func settings(for route: RouteConfig) -> FaultInjection? {
    guard let fault = route.options.values.faultInjection, fault.fixedDelay != nil || fault.abort != nil
    else {
      return nil
    }
    return fault
  }

  init(_ fault: FaultInjection) { rules = FaultRules(fault) }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    let delay = rules.delay.flatMap { rules.applies(random: &call.loop.random) ? $0 : nil }
    let abort = rules.abortStatus.flatMap { rules.applies(random: &call.loop.random) ? $0 : nil }
    guard let delay else { return abort.map { .answer(Self.abort($0)) } ?? .proceed }
    call.flag(.delayInjected)
    let resume = call.suspend()
    let timer = call.loop.eventLoop.assumeIsolated().scheduleTask(in: delay) {
      if let abort { resume.answer(Self.abort(abort)) } else { resume.proceed() }
    }
    resume.onCancel { timer.cancel() }
    return .suspend
  }

  private static func abort(_ status: Int) -> LocalAnswer {
    LocalAnswer(status: status, body: "fault filter abort\n", flag: .faultInjected)
  }
}
