/// Everything one gateway serves, fully resolved: listeners, virtual hosts, flattened routes with their
/// effective options, and upstreams with endpoints. Immutable; a reload builds a new one.
public struct GatewayConfig: Sendable, Encodable {
  public var gateway: GatewayIdentity
  public var listeners: [Listener]
  public var upstreams: [Upstream]

  public init(gateway: GatewayIdentity, listeners: [Listener] = [], upstreams: [Upstream] = []) {
    self.gateway = gateway
    self.listeners = listeners
    self.upstreams = upstreams
  }

  /// Every virtual host of every listener, in listener order.
  public var virtualHosts: [VirtualHostConfig] {
    listeners.flatMap { $0.serverNameChains.flatMap(\.virtualHosts) }
  }
}

/// One listening port, built from the VirtualGateways that ask for its port name.
public struct Listener: Sendable, Encodable {
  public var portName: String
  /// Nil when the gateway identity does not fix port numbers.
  public var port: Int?
  public var bindAddress: String
  public var virtualGateways: [ResourceID]
  public var serverNameChains: [ServerNameChain]
}

/// The connection handling for a set of SNI server names (empty: any) on a listener.
public struct ServerNameChain: Sendable, Encodable {
  public var serverNames: [String]
  public var sslConfig: SSLConfig?
  /// The TLS the gateway terminates on this chain; nil for plaintext, and for an `sslConfig` that cannot be
  /// served (an error or warning says why).
  public var tls: TLSTermination?
  public var httpsRedirect: Bool
  public var routeOptions: HTTPRoutes.RouteOptions?
  public var virtualHosts: [VirtualHostConfig]
  /// Set on a chain that passes TLS through unterminated (`tcp` with tlsMode PASSTHROUGH).
  public var passthrough: TCPForward? = nil
}

/// Where a passthrough chain sends its connections.
public struct TCPForward: Sendable, Encodable {
  public var destinations: [RouteActionConfig.DestinationConfig]
  public var maxConnectAttempts: Int
  /// Nil: the default (one hour).
  public var idleTimeout: ManifestDuration?

  public init(
    destinations: [RouteActionConfig.DestinationConfig], maxConnectAttempts: Int,
    idleTimeout: ManifestDuration?
  ) {
    self.destinations = destinations
    self.maxConnectAttempts = maxConnectAttempts
    self.idleTimeout = idleTimeout
  }
}

public struct VirtualHostConfig: Sendable, Encodable {
  /// `namespace/name`, or for an inline virtual host the VirtualGateway's name and position.
  public var name: String
  /// The resource that defines it (a VirtualHost, or the VirtualGateway of an inline one).
  public var resource: ResourceID
  /// Lowercased.
  public var domains: [String]
  public var routes: [RouteConfig]
}

/// A flattened route: delegation expanded, matchers combined, options resolved.
public struct RouteConfig: Sendable, Encodable {
  /// Generated names join the delegation chain with dots: `orders.list`.
  public var name: String
  public var matchers: [RouteMatcher]
  public var action: RouteActionConfig
  public var options: EffectiveOptions
  public var labels: [String: String]
  /// VirtualHost route first, then each delegated route down to this one.
  public var chain: [ChainLink]
  /// Set when this route stands in for a route that could not be built.
  public var replacement: Replacement?
  /// Where `mirror` sends copies, resolved.
  public var mirror: MirrorTarget?
  /// `rateLimit`, resolved.
  public var rateLimit: RateLimitConfig?
  /// `extauth`, resolved.
  public var extauth: ExtAuthConfig?
  /// `waf`, resolved.
  public var waf: WAFConfig?
  /// `dlp`, resolved.
  public var dlp: DLPConfig?
  /// `transformations`, resolved.
  public var transformations: TransformationConfig?

  public struct MirrorTarget: Sendable, Encodable {
    /// The `Upstream.id` copies go to.
    public var upstream: String
    /// 0–100.
    public var percentage: Double
  }

  public struct Replacement: Sendable, Encodable {
    public var errors: [Diagnostic]
  }
}

/// One step of the delegation chain: a route in a resource.
public struct ChainLink: Sendable, Encodable, Hashable {
  public var resource: ResourceID
  public var route: String
  public var routeIndex: Int
  public var location: SourceLocation
}

public enum RouteActionConfig: Sendable, Encodable {
  case forward(ForwardAction)
  case redirect(RedirectAction)
  case directResponse(status: Int, body: String?)

  public struct ForwardAction: Sendable, Encodable {
    public var destinations: [DestinationConfig]
    public var pathRewrite: String?
  }

  public struct DestinationConfig: Sendable, Encodable {
    /// The `Upstream.id` this share goes to.
    public var upstream: String
    public var weight: UInt32
    public var headerManipulation: HeaderManipulation?
  }

  public static let invalidRouteStatus = 500
  public static let invalidRouteBody = "invalid route configuration"

  private enum CodingKeys: String, CodingKey { case forward, redirect, directResponse }
  private struct DirectResponseBody: Encodable {
    let status: Int
    let body: String?
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .forward(let action): try container.encode(action, forKey: .forward)
    case .redirect(let action): try container.encode(action, forKey: .redirect)
    case .directResponse(let status, let body):
      try container.encode(DirectResponseBody(status: status, body: body), forKey: .directResponse)
    }
  }
}

/// A set of endpoints a route can forward to.
public struct Upstream: Sendable, Encodable {
  /// `static:namespace/name` or `kube:cluster/namespace/name:port`.
  public var id: String
  public var source: ResourceID
  public var endpoints: [Endpoint]
  public var loadBalancer: StaticDestinationSpec.LoadBalancer
  public var `protocol`: StaticDestinationSpec.UpstreamProtocol
  public var tls: StaticDestinationSpec.TLS?
  public var dnsRefresh: ManifestDuration?
  /// Passive health of its own (a VirtualDestination's); a route's `outlierDetection` takes precedence.
  public var outlierDetection: OutlierDetection? = nil
  /// The mesh identity (certificate, key and mesh CA) endpoints with a `meshServerName` are reached with.
  public var meshIdentity: SecretData? = nil

  public struct Endpoint: Sendable, Encodable, Hashable {
    public var address: String
    public var port: Int
    public var locality: StaticDestinationSpec.Locality?
    public var labels: [String: String]?
    /// Failover order: traffic goes to the lowest priority with a healthy endpoint (0 first).
    public var priority: Int = 0
    /// The cluster the endpoint is in, when it was found in a cluster's registry.
    public var cluster: String? = nil
    /// Set for another cluster's east-west gateway: reached over mutual TLS with the mesh identity, this
    /// name sent by SNI says which of that cluster's services the connection is for.
    public var meshServerName: String? = nil
  }
}
