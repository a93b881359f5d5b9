import PorticoAPI
import PorticoTranslate

/// `csrf`: refuses a state-changing request from another site with 403, or only counts it in shadow mode.
final class CSRFFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead]
  private let rules: CSRFRules

  static func settings(for route: RouteConfig) -> CsrfPolicy? {
    guard let policy = route.options.values.csrf, policy.filterEnabled == true || policy.shadowEnabled == true
    else {
      return nil
    }
    return policy
  }

  init(_ policy: CsrfPolicy) { rules = CSRFRules(policy) }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    let request = call.request
    switch request.methodKind {
    case .post, .put, .patch: break
    case .other where request.method == "DELETE": break
    default: return .proceed
    }
    guard rules.share.includes(random: &call.loop.random),
      let origin = request.head.firstValue(named: "origin") ?? request.head.firstValue(named: "referer"),
      rules.isForeign(origin: origin, authority: request.authority)
    else { return .proceed }
    guard rules.enforces else {
      call.loop.services.metrics.csrfShadowed.increment()
      return .proceed
    }
    call.loop.services.metrics.csrfRefused.increment()
    return .answer(LocalAnswer(status: 403, body: "Invalid origin\n"))
  }
}
