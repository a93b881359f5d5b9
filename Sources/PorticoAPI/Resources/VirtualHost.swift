/// Domains, default options and an ordered route list.
public struct VirtualHostSpec: Codable, Hashable, Sendable {
  public var domains: [String]?
  public var routes: [Route]?
  public var options: VirtualHostOptions?

  public init(domains: [String]? = nil, routes: [Route]? = nil, options: VirtualHostOptions? = nil) {
    self.domains = domains
    self.routes = routes
    self.options = options
  }
}

public struct VirtualHostOptions: Codable, Hashable, Sendable {
  public var trafficPolicy: Policy?
  public var invalidRoutePolicy: InvalidRoutePolicy?

  public init(trafficPolicy: Policy? = nil, invalidRoutePolicy: InvalidRoutePolicy? = nil) {
    self.trafficPolicy = trafficPolicy
    self.invalidRoutePolicy = invalidRoutePolicy
  }
}

/// What happens to a route that cannot be built. Unset: it is replaced in place by
/// `500 invalid route configuration`, so that its requests never fall through to a broader route.
public struct InvalidRoutePolicy: Codable, Hashable, Sendable {
  public var drop: EmptyObject?
  public var directResponse: DirectResponseAction?
  public var rejectVirtualHost: EmptyObject?

  public init(
    drop: EmptyObject? = nil, directResponse: DirectResponseAction? = nil,
    rejectVirtualHost: EmptyObject? = nil
  ) {
    self.drop = drop
    self.directResponse = directResponse
    self.rejectVirtualHost = rejectVirtualHost
  }

  public static let choiceNames = ["drop", "directResponse", "rejectVirtualHost"]

  public var choiceCount: Int {
    [drop != nil, directResponse != nil, rejectVirtualHost != nil].filter { $0 }.count
  }
}

/// Routes reached only through delegation.
public struct RouteTableSpec: Codable, Hashable, Sendable {
  public var routes: [Route]?
  /// Higher weights come first among the tables one delegateAction reaches.
  public var weight: Int32?

  public init(routes: [Route]? = nil, weight: Int32? = nil) {
    self.routes = routes
    self.weight = weight
  }
}
