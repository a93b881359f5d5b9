import CoreMetrics
import NIOCore
import PorticoRouting
import PorticoTranslate

/// `transformations`, after external auth and rate limiting: the first request entry that matches rewrites
/// the request's body (unless it runs before auth, `EarlyTransformationFilter`), and the first response
/// entry that matches rewrites the response's. A message to rewrite is held whole, up to the route's bound
/// (past it the layer answers 413, or 502 for a response); a message without a body passes as it is.
final class TransformationFilter: ConfiguredFilter {
  let phases: FilterPhases
  private let transformer: BodyTransformer

  static func settings(for route: RouteConfig) -> TransformationConfig? {
    guard let config = route.transformations, config.hasLateRequests || !config.response.isEmpty else {
      return nil
    }
    return config
  }

  init(_ config: TransformationConfig) {
    transformer = BodyTransformer(config, early: false)
    var phases: FilterPhases = []
    if config.hasLateRequests { phases.formUnion([.requestHead, .requestBody, .rewritesRequestBody]) }
    if !config.response.isEmpty {
      phases.formUnion([.requestHead, .responseHead, .responseBody, .rewritesResponseBody])
    }
    self.phases = phases
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    // A response the stylesheet reads must come as written, not compressed.
    if transformer.transformsResponses { call.upstreamHeaders.remove("accept-encoding") }
    return transformer.requestHead(call)
  }

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    transformer.requestBody(&body, end: end, call)
  }

  func responseHead(_ call: FilterCall) -> FilterVerdict { transformer.responseHead(call) }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    transformer.responseBody(&body, end: end, call)
  }
}

/// `transformations` entries with `applyBeforeAuth`: the request is rewritten before the WAF, external
/// auth and rate limiting see it.
final class EarlyTransformationFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead, .requestBody, .rewritesRequestBody]
  private let transformer: BodyTransformer

  static func settings(for route: RouteConfig) -> TransformationConfig? {
    guard let config = route.transformations, config.hasEarlyRequests else { return nil }
    return config
  }

  init(_ config: TransformationConfig) { transformer = BodyTransformer(config, early: true) }

  func requestHead(_ call: FilterCall) -> FilterVerdict { transformer.requestHead(call) }

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    transformer.requestBody(&body, end: end, call)
  }
}
