/// The router a gateway uses per request: host lookup, then route lookup within the host.
public struct CompiledRouter: Sendable {
  public let virtualHosts: [VirtualHostConfig]
  private let hosts: HostIndex
  private let routeIndexes: [RouteIndex]

  public init(virtualHosts: [VirtualHostConfig]) {
    self.virtualHosts = virtualHosts
    hosts = HostIndex(virtualHosts)
    routeIndexes = virtualHosts.map { RouteIndex($0.routes) }
  }

  /// The routes of `chain` (one listener's set of virtual hosts for some server names).
  public init(_ chain: FilterChain) { self.init(virtualHosts: chain.virtualHosts) }

  public struct Match: Sendable {
    public let hostIndex: Int
    public let routeIndex: Int
    public let matcherIndex: Int
    public let virtualHost: VirtualHostConfig
    public let route: RouteConfig
    public var matcher: RouteMatcher { route.matchers[matcherIndex] }
  }

  public enum Outcome: Sendable {
    case matched(Match)
    case noHost
    case noRoute(hostIndex: Int)
  }

  /// The host index for `authority`, or nil.
  public func hostIndex(for authority: Substring) -> Int? { hosts.host(for: authority) }

  public func route<Request: RequestView>(_ request: Request) -> Outcome {
    guard let hostIndex = hosts.host(for: request.authority) else { return .noHost }
    guard let entry = routeIndexes[hostIndex].firstMatch(request) else { return .noRoute(hostIndex: hostIndex) }
    let host = virtualHosts[hostIndex]
    return .matched(
      Match(
        hostIndex: hostIndex, routeIndex: Int(entry.route), matcherIndex: Int(entry.matcher), virtualHost: host,
        route: host.routes[Int(entry.route)]))
  }
}
