/// A virtual host ready for lookups: its configuration and its route index.
public final class CompiledHost: Sendable {
  public let config: VirtualHostConfig
  /// The host's name, read without copying its configuration.
  public let name: String
  public let routes: [CompiledRoute]
  let index: RouteIndex

  init(_ config: VirtualHostConfig, attach: RouteAttachment) {
    self.config = config
    name = config.name
    routes = config.routes.enumerated().map {
      CompiledRoute(config: $1, position: $0, runtime: attach(config, $1))
    }
    index = RouteIndex(config.routes)
  }
}

/// Makes what a user of the router keeps with each route (the data plane's ready-to-serve form of it).
public typealias RouteAttachment = (VirtualHostConfig, RouteConfig) -> (any AnyObject & Sendable)?

/// A route held by reference, so that handing a match to the data plane costs one reference count.
public final class CompiledRoute: Sendable {
  public let config: RouteConfig
  /// Its position in the host's route list.
  public let position: Int
  /// What the router's user attached when the router was built; routing never reads it.
  public let runtime: (any AnyObject & Sendable)?

  init(config: RouteConfig, position: Int, runtime: (any AnyObject & Sendable)?) {
    self.config = config
    self.position = position
    self.runtime = runtime
  }
}

/// The router a gateway uses per request: host lookup, then route lookup within the host.
public struct CompiledRouter: Sendable {
  public let hosts: [CompiledHost]
  private let hostIndex: HostIndex

  /// `attach` is called once per route; what it returns is kept as the route's `runtime`.
  public init(virtualHosts: [VirtualHostConfig], attach: RouteAttachment = { _, _ in nil }) {
    hosts = virtualHosts.map { CompiledHost($0, attach: attach) }
    hostIndex = HostIndex(virtualHosts)
  }

  /// The routes of `chain` (one listener's set of virtual hosts for some server names).
  public init(_ chain: ServerNameChain) { self.init(virtualHosts: chain.virtualHosts) }

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
