/// A virtual host ready for lookups: its configuration and its route index.
public final class CompiledHost: Sendable {
  public let config: VirtualHostConfig
  public let routes: [CompiledRoute]
  let index: RouteIndex

  init(_ config: VirtualHostConfig) {
    self.config = config
    routes = config.routes.enumerated().map { CompiledRoute(config: $1, position: $0) }
    index = RouteIndex(config.routes)
  }
}

/// A route held by reference, so that handing a match to the data plane costs one reference count.
public final class CompiledRoute: Sendable {
  public let config: RouteConfig
  /// Its position in the host's route list.
  public let position: Int

  init(config: RouteConfig, position: Int) {
    self.config = config
    self.position = position
  }
}

/// The router a gateway uses per request: host lookup, then route lookup within the host.
public struct CompiledRouter: Sendable {
  public let hosts: [CompiledHost]
  private let hostIndex: HostIndex

  public init(virtualHosts: [VirtualHostConfig]) {
    hosts = virtualHosts.map(CompiledHost.init)
    hostIndex = HostIndex(virtualHosts)
  }

  /// The routes of `chain` (one listener's set of virtual hosts for some server names).
  public init(_ chain: FilterChain) { self.init(virtualHosts: chain.virtualHosts) }

  public var virtualHosts: [VirtualHostConfig] { hosts.map(\.config) }

  public struct Match: Sendable {
    public let host: CompiledHost
    public let route: CompiledRoute
    public let matcherIndex: Int
    public var matcher: RouteMatcher { route.config.matchers[matcherIndex] }
  }

  public enum Outcome: Sendable {
    case matched(Match)
    case noHost
    case noRoute(CompiledHost)
  }

  /// The host serving `authority`, or nil.
  public func host(for authority: Substring) -> CompiledHost? {
    hostIndex.host(for: authority).map { hosts[$0] }
  }

  public func route<Request: RequestView>(_ request: Request) -> Outcome {
    guard let host = host(for: request.authority) else { return .noHost }
    guard let entry = host.index.firstMatch(request) else { return .noRoute(host) }
    return .matched(Match(host: host, route: host.routes[Int(entry.route)], matcherIndex: Int(entry.matcher)))
  }
}
