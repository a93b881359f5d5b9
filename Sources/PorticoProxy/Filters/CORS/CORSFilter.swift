import PorticoAPI
import PorticoTranslate

/// `corsPolicy`: answers preflight requests from allowed origins itself, and adds the allow and expose
/// fields to every other response to them, in place of any the upstream sent. It runs first, so that the
/// answers of the filters after it (a 403, an injected fault) carry CORS fields a browser can read.
final class CORSFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead, .responseHead]
  private let rules: CORSRules

  static func settings(for route: RouteConfig) -> CorsPolicy? { route.options.values.corsPolicy }

  init(_ policy: CorsPolicy) { rules = CORSRules(policy) }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard call.request.methodKind == .options, let origin = allowedOrigin(of: call),
      call.request.head.firstValue(named: "access-control-request-method") != nil
    else { return .proceed }
    // A preflight: answered here, never forwarded.
    return .answer(LocalAnswer(status: 200, fields: rules.preflightFields(origin: String(origin))))
  }

  func responseHead(_ call: FilterCall) -> FilterVerdict {
    guard let origin = allowedOrigin(of: call) else { return .proceed }
    call.responseHeaders.remove(all: CORSRules.fieldNames)
    rules.addResponseFields(origin: String(origin), to: &call.responseHeaders)
    return .proceed
  }

  private func allowedOrigin(of call: FilterCall) -> Substring? {
    guard let origin = call.request.head.firstValue(named: "origin"), rules.allows(origin: origin) else {
      return nil
    }
    return origin
  }
}
