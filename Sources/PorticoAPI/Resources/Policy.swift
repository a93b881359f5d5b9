/// Route options (`TrafficPolicySpec.Policy`). Each top-level field is inherited on its own: the closest
/// definition of a field wins (route, then delegating routes, then the virtual host, then TrafficPolicies).
public struct Policy: Codable, Hashable, Sendable {
  public var requestTimeout: ManifestDuration?
  public var retries: RetryPolicy?
  public var faultInjection: FaultInjection?
  public var corsPolicy: CorsPolicy?
  public var headerManipulation: HeaderManipulation?
  public var mirror: Mirror?
  public var trafficShift: TrafficShift?
  public var outlierDetection: OutlierDetection?
  public var connectionPoolSettings: ConnectionPoolSettings?
  /// Not enforced yet: a route it reaches is replaced as invalid (see the translator's UnenforcedOptions).
  public var mtls: OpaqueValue?
  public var csrf: CsrfPolicy?
  public var rateLimit: RouteRateLimit?
  public var extauth: RouteExtauth?
  /// Gloo's JWT option: providers on the virtual host (`allowMissingOrFailedJwt` to let requests without a
  /// good token through), `disable: true` on a route. Run as a `jwt` step before the route's AuthConfig.
  public var jwt: JWTOption?
  public var rateLimitSettings: RateLimitServerSettings?
  public var extauthSettings: ExtauthSettings?
  public var transformations: RouteTransformations?
  public var waf: WAFPolicy?
  public var dlp: DLPPolicy?
  /// Portico's own: the largest request body the route accepts, in bytes (413 past it); 0 turns an
  /// inherited limit off.
  public var maxRequestBodyBytes: Int64?

  public init() {}
}

public struct RetryPolicy: Codable, Hashable, Sendable {
  /// Retries, not counting the first try.
  public var attempts: Int32?
  public var perTryTimeout: ManifestDuration?

  public init(attempts: Int32? = nil, perTryTimeout: ManifestDuration? = nil) {
    self.attempts = attempts
    self.perTryTimeout = perTryTimeout
  }
}

public struct FaultInjection: Codable, Hashable, Sendable {
  public struct Abort: Codable, Hashable, Sendable {
    public var httpStatus: Int32
  }

  public var fixedDelay: ManifestDuration?
  public var abort: Abort?
  /// 0–100; omitted means every request.
  public var percentage: Double?
}

public struct CorsPolicy: Codable, Hashable, Sendable {
  public var allowOrigins: [StringMatch]?
  public var allowMethods: [String]?
  public var allowHeaders: [String]?
  public var exposeHeaders: [String]?
  public var maxAge: ManifestDuration?
  public var allowCredentials: Bool?
}

public struct HeaderManipulation: Codable, Hashable, Sendable {
  public var appendRequestHeaders: [String: String]?
  public var removeRequestHeaders: [String]?
  public var appendResponseHeaders: [String: String]?
  public var removeResponseHeaders: [String]?

  public init(
    appendRequestHeaders: [String: String]? = nil, removeRequestHeaders: [String]? = nil,
    appendResponseHeaders: [String: String]? = nil, removeResponseHeaders: [String]? = nil
  ) {
    self.appendRequestHeaders = appendRequestHeaders
    self.removeRequestHeaders = removeRequestHeaders
    self.appendResponseHeaders = appendResponseHeaders
    self.removeResponseHeaders = removeResponseHeaders
  }
}

public struct Mirror: Codable, Hashable, Sendable {
  public var kubeService: ClusterObjectRef?
  /// Portico extension: mirror to a StaticDestination.
  public var staticDestination: ObjectRef?
  /// Default 100.
  public var percentage: Double?
  public var port: UInt32?
}

public struct TrafficShift: Codable, Hashable, Sendable {
  public var destinations: [WeightedDestination]?
}

public struct OutlierDetection: Codable, Hashable, Sendable {
  public var consecutiveErrors: UInt32?
  public var interval: ManifestDuration?
  public var baseEjectionTime: ManifestDuration?
  public var maxEjectionPercent: UInt32?

  public init(
    consecutiveErrors: UInt32? = nil, baseEjectionTime: ManifestDuration? = nil,
    maxEjectionPercent: UInt32? = nil
  ) {
    self.consecutiveErrors = consecutiveErrors
    self.baseEjectionTime = baseEjectionTime
    self.maxEjectionPercent = maxEjectionPercent
  }
}

public struct ConnectionPoolSettings: Codable, Hashable, Sendable {
  public struct TCP: Codable, Hashable, Sendable {
    public struct Keepalive: Codable, Hashable, Sendable {
      public var probes: UInt32?
      public var time: ManifestDuration?
      public var interval: ManifestDuration?
    }

    public var maxConnections: Int32?
    public var connectTimeout: ManifestDuration?
    public var tcpKeepalive: Keepalive?
  }

  public struct HTTP: Codable, Hashable, Sendable {
    public var http1MaxPendingRequests: Int32?
    public var http2MaxRequests: Int32?
    public var maxRequestsPerConnection: Int32?
    public var maxRetries: Int32?
    public var idleTimeout: ManifestDuration?
    /// Not enforced yet, like `mtls`.
    public var h2UpgradePolicy: OpaqueValue?
    public var useClientProtocol: Bool?
  }

  public var tcp: TCP?
  public var http: HTTP?
}

public struct CsrfPolicy: Codable, Hashable, Sendable {
  public var filterEnabled: Bool?
  public var shadowEnabled: Bool?
  public var percentage: Double?
  public var additionalOrigins: [StringMatch]?
}

/// Which rate-limit server rules apply to a route and how descriptors are built.
public struct RouteRateLimit: Codable, Hashable, Sendable {
  public var ratelimitServerConfigSelector: ObjectSelector?
  /// The actions inline.
  public var raw: RawActions?
  public var ratelimitClientConfigRef: ObjectRef?
}

public struct RouteExtauth: Codable, Hashable, Sendable {
  public struct CustomAuth: Codable, Hashable, Sendable {
    public var contextExtensions: [String: String]?
  }

  public var disable: Bool?
  public var configRef: ObjectRef?
  public var customAuth: CustomAuth?
}

/// Gloo's `options.jwt`: a virtual host's providers, or a route's `disable`.
public struct JWTOption: Codable, Hashable, Sendable {
  public var providers: [String: JWTProvider]?
  public var allowMissingOrFailedJwt: Bool?
  public var disable: Bool?

  public init(providers: [String: JWTProvider]? = nil, disable: Bool? = nil) {
    self.providers = providers
    self.disable = disable
  }
}

public struct RateLimitServerSettings: Codable, Hashable, Sendable {
  public var ratelimitServerRef: ObjectRef?
  public var requestTimeout: ManifestDuration?
  public var denyOnFail: Bool?
}

/// The request body auth waits for and shows its checks (an ext_authz server's `http.body`, an OPA policy's
/// `input.http_request.body`).
public struct ExtauthRequestBody: Codable, Hashable, Sendable {
  /// 4 KiB unless set.
  public var maxRequestBytes: UInt32?
  /// A longer body is shown cut to `maxRequestBytes` instead of answered with 413.
  public var allowPartialMessage: Bool?
  /// Sent to an ext_authz server as bytes (`raw_body`) rather than text (`body`).
  public var packAsBytes: Bool?
}

public struct ExtauthSettings: Codable, Hashable, Sendable {
  public typealias RequestBody = ExtauthRequestBody

  public var extauthzRef: ObjectRef?
  public var httpService: OpaqueValue?
  public var userIdHeader: String?
  public var requestTimeout: ManifestDuration?
  public var failureModeAllow: Bool?
  public var requestBody: RequestBody?
  public var clearRouteCache: Bool?
  public var statusOnError: UInt32?
  public var transportApiVersion: String?
  public var statPrefix: String?
}
