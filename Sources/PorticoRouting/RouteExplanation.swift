/// Why a request reached the route it did: every earlier route and why it was passed over. Built by a plain
/// scan in listed order, independent of the indexes, so it also checks them.
public struct RouteExplanation: Sendable {
  public struct Candidate: Sendable {
    public let route: CompiledRoute
    /// One reason per matcher.
    public let reasons: [String]
  }

  public let host: CompiledHost?
  public let candidates: [Candidate]
  public let match: CompiledRouter.Match?
}

extension CompiledRouter {
  public func explain<Request: RequestView>(_ request: Request) -> RouteExplanation {
    guard let host = host(for: request.authority) else {
      return RouteExplanation(host: nil, candidates: [], match: nil)
    }
    var candidates: [RouteExplanation.Candidate] = []
    for route in host.routes {
      var reasons: [String] = []
      for (matcherIndex, matcher) in route.config.matchers.enumerated() {
        guard let mismatch = matcher.firstMismatch(request) else {
          let match = Match(host: host, route: route, matcherIndex: matcherIndex)
          return RouteExplanation(host: host, candidates: candidates, match: match)
        }
        reasons.append(matcher.describe(mismatch))
      }
      candidates.append(.init(route: route, reasons: reasons))
    }
    return RouteExplanation(host: host, candidates: candidates, match: nil)
  }
}
