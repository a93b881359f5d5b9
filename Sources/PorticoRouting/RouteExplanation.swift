/// Why a request reached the route it did: every earlier route and why it was passed over. Built by a plain
/// scan in listed order, independent of the indexes, so it also checks them.
public struct RouteExplanation: Sendable {
  public struct Candidate: Sendable {
    public let routeIndex: Int
    public let route: RouteConfig
    /// One reason per matcher.
    public let reasons: [String]
  }

  public let hostIndex: Int?
  public let candidates: [Candidate]
  public let match: CompiledRouter.Match?
}

extension CompiledRouter {
  public func explain<Request: RequestView>(_ request: Request) -> RouteExplanation {
    guard let hostIndex = hostIndex(for: request.authority) else {
      return RouteExplanation(hostIndex: nil, candidates: [], match: nil)
    }
    let host = virtualHosts[hostIndex]
    var candidates: [RouteExplanation.Candidate] = []
    for (routeIndex, route) in host.routes.enumerated() {
      var reasons: [String] = []
      for (matcherIndex, matcher) in route.matchers.enumerated() {
        guard let mismatch = matcher.firstMismatch(request) else {
          let match = Match(
            hostIndex: hostIndex, routeIndex: routeIndex, matcherIndex: matcherIndex, virtualHost: host,
            route: route)
          return RouteExplanation(hostIndex: hostIndex, candidates: candidates, match: match)
        }
        reasons.append(matcher.describe(mismatch))
      }
      candidates.append(.init(routeIndex: routeIndex, route: route, reasons: reasons))
    }
    return RouteExplanation(hostIndex: hostIndex, candidates: candidates, match: nil)
  }
}
