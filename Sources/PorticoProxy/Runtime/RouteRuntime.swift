import NIOCore
import PorticoAPI
import PorticoTranslate

/// A route in the form the data plane serves it, derived once when a configuration is built: upstreams
/// resolved, header plans merged, timeout and weights summed. Requests read it without copying the route's
/// configuration or looking anything up by name.
final class RouteRuntime: Sendable {
  enum Action: Sendable {
    case direct(status: Int, body: String?)
    case redirect(RedirectAction)
    case forward(Forward)
  }

  struct Forward: Sendable {
    let destinations: [Destination]
    let totalWeight: Int
    let pathRewrite: String?
  }

  /// One weighted destination of a forward action.
  final class Destination: Sendable {
    let name: String
    /// Nil when the configuration names no such upstream: requests get 503.
    let upstream: UpstreamRuntime?
    let weight: Int
    let requestPlan: HeaderPlan
    let responsePlan: HeaderPlan

    init(_ config: RouteActionConfig.DestinationConfig, route: RouteConfig, upstream: UpstreamRuntime?) {
      name = config.upstream
      self.upstream = upstream
      weight = Int(config.weight)
      requestPlan = .request(route: route, destination: config.headerManipulation)
      responsePlan = .response(route: route, destination: config.headerManipulation)
    }
  }

  /// What a matcher's path says about rewriting: an exact match is replaced whole, a prefix by its length.
  struct PathMatch: Sendable {
    let isExact: Bool
    let literalLength: Int
  }

  static let defaultRequestTimeout = TimeAmount.seconds(15)

  let name: String
  let isReplacement: Bool
  let action: Action
  /// Header changes for answers the gateway makes itself on this route (direct responses, redirects).
  let localResponsePlan: HeaderPlan
  /// The route's request policies; nil when it has none, which is all a request then checks of them.
  let filters: RequestFilters?
  /// From when the filters start to the end of the response; zero turns it off.
  let requestTimeout: TimeAmount
  let retry: RetryRuntime?
  let mirror: MirrorRuntime?
  /// Per matcher, in the route's order.
  private let pathMatches: [PathMatch]

  /// What the matcher at `index` says about rewriting (a route without matchers matches every path).
  func pathMatch(at index: Int) -> PathMatch {
    index < pathMatches.count ? pathMatches[index] : PathMatch(isExact: false, literalLength: 0)
  }

  init(_ route: RouteConfig, upstreams: [String: UpstreamRuntime], filters: RequestFilters?) {
    name = route.name
    isReplacement = route.replacement != nil
    localResponsePlan = .response(route: route, destination: nil)
    self.filters = filters
    let timeout = route.options.values.requestTimeout?.nanoseconds
    requestTimeout = timeout.map { .nanoseconds($0) } ?? Self.defaultRequestTimeout
    retry = RetryRuntime(route.options.values.retries)
    mirror = route.mirror.flatMap { target in
      upstreams[target.upstream].map {
        MirrorRuntime(upstream: $0, share: RequestShare(percentage: target.percentage))
      }
    }
    pathMatches = route.matchers.map {
      PathMatch(isExact: $0.path.kind == .exact, literalLength: $0.path.literalLength)
    }
    switch route.action {
    case .directResponse(let status, let body):
      action = .direct(status: status, body: body)
    case .redirect(let redirect):
      action = .redirect(redirect)
    case .forward(let forward):
      let destinations = forward.destinations.map {
        Destination($0, route: route, upstream: upstreams[$0.upstream])
      }
      action = .forward(
        Forward(
          destinations: destinations, totalWeight: destinations.reduce(0) { $0 + $1.weight },
          pathRewrite: forward.pathRewrite))
    }
  }
}

extension RouteRuntime.Forward {
  /// The position of a destination chosen by weight; nil when every weight is zero.
  func pickDestination(random: inout LoopRandom) -> Int? {
    if destinations.count == 1 { return totalWeight > 0 ? 0 : nil }
    guard totalWeight > 0 else { return nil }
    var point = random.next(below: totalWeight)
    for (index, destination) in destinations.enumerated() {
      point -= destination.weight
      if point < 0 { return index }
    }
    return destinations.count - 1
  }
}
