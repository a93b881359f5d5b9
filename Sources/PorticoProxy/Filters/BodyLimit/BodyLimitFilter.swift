import NIOCore
import PorticoAPI
import PorticoTranslate

/// `maxRequestBodyBytes`: a body larger than the route allows is refused with 413, from its announced
/// length when it has one, else once the bytes received pass the limit. The rest of it is not read, so the
/// connection closes after the answer.
final class BodyLimitFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead, .requestBody]
  private let limit: Int

  static func settings(for route: RouteConfig) -> Int64? {
    guard let limit = route.options.values.maxRequestBodyBytes, limit > 0 else { return nil }
    return limit
  }

  init(_ limit: Int64) { self.limit = Int(clamping: limit) }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    if case .length(let length) = call.request.framing, length > limit { return .answer(Self.tooLarge) }
    return .proceed
  }

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    call.requestBodyBytes > limit ? .answer(Self.tooLarge) : .proceed
  }

  private static let tooLarge = LocalAnswer(
    status: 413, body: "request body too large\n", closesConnection: true)
}
