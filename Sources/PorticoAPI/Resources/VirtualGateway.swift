/// Which gateway workloads serve which virtual hosts, and how their listeners behave.
public struct VirtualGatewaySpec: Codable, Hashable, Sendable {
  public var ingressGatewaySelectors: [IngressGatewaySelector]?
  public var connectionHandlers: [ConnectionHandler]?
  public var options: Options?

  public struct Options: Codable, Hashable, Sendable {
    public var perConnectionBufferLimitBytes: UInt32?
    public var bindAddress: String?
  }
}

/// Picks gateway workloads and the named port the listener binds to.
public struct IngressGatewaySelector: Codable, Hashable, Sendable {
  public var destinationSelectors: [DestinationSelector]?
  public var portName: String?
}

public struct DestinationSelector: Codable, Hashable, Sendable {
  public struct KubeServiceMatcher: Codable, Hashable, Sendable {
    public var labels: [String: String]?
    public var namespaces: [String]?
    public var clusters: [String]?
  }

  public struct KubeServiceRefs: Codable, Hashable, Sendable {
    public var services: [ClusterObjectRef]?
  }

  public var kubeServiceMatcher: KubeServiceMatcher?
  public var kubeServiceRefs: KubeServiceRefs?
}

public struct ConnectionHandler: Codable, Hashable, Sendable {
  public struct ConnectionMatch: Codable, Hashable, Sendable {
    public var serverNames: [String]?
    public var transportProtocol: String?
  }

  public struct ConnectionOptions: Codable, Hashable, Sendable {
    public var sslConfig: SSLConfig?
    public var httpsRedirect: Bool?
    public var strictFilterManagement: Bool?
    public var enableProxyProtocol: Bool?
  }

  public var connectionMatch: ConnectionMatch?
  public var connectionOptions: ConnectionOptions?
  public var http: HTTPRoutes?
  public var tcp: TCPRoutes?
}

/// A TCP proxy handler: connections are passed to a destination as a byte stream. Portico serves it with
/// `tlsMode: PASSTHROUGH`: the client's TLS goes to the destination unterminated, chosen by SNI name.
public struct TCPRoutes: Codable, Hashable, Sendable {
  public struct TCPHost: Codable, Hashable, Sendable {
    public var name: String?
    public var destination: WeightedDestination?
  }

  public struct Options: Codable, Hashable, Sendable {
    public struct TCPProxySettings: Codable, Hashable, Sendable {
      /// Endpoints tried before the connection is given up; default 1.
      public var maxConnectAttempts: UInt32?
      /// A connection with no bytes either way for this long is closed; default 1 hour.
      public var idleTimeout: ManifestDuration?
      public var tunnelingConfig: NotImplemented?
    }

    public var tcpProxySettings: TCPProxySettings?
  }

  public var tcpHosts: [TCPHost]?
  public var options: Options?
}

public struct SSLConfig: Codable, Hashable, Sendable {
  public enum TLSMode: String, ManifestEnum {
    case passthrough = "PASSTHROUGH"
    case simple = "SIMPLE"
    case mutual = "MUTUAL"
    case autoPassthrough = "AUTO_PASSTHROUGH"
    case istioMutual = "ISTIO_MUTUAL"
  }

  public enum ProtocolVersion: String, ManifestEnum {
    case auto = "TLS_AUTO"
    case tls10 = "TLSv1_0"
    case tls11 = "TLSv1_1"
    case tls12 = "TLSv1_2"
    case tls13 = "TLSv1_3"
  }

  public struct Files: Codable, Hashable, Sendable {
    public var tlsCert: String?
    public var tlsKey: String?
    public var rootCa: String?
  }

  public struct Parameters: Codable, Hashable, Sendable {
    public var minimumProtocolVersion: ProtocolVersion?
    public var maximumProtocolVersion: ProtocolVersion?
    public var cipherSuites: [String]?
  }

  public var secretName: String?
  public var sslFiles: Files?
  public var verifySubjectAltName: [String]?
  public var parameters: Parameters?
  public var tlsMode: TLSMode?
}

public struct HTTPRoutes: Codable, Hashable, Sendable {
  public struct RouteConfig: Codable, Hashable, Sendable {
    public var virtualHostSelector: ObjectSelector?
    public var virtualHost: VirtualHostSpec?
  }

  /// Listener-wide filter and server settings; policy fields further down override them.
  public struct RouteOptions: Codable, Hashable, Sendable {
    public struct Transformations: Codable, Hashable, Sendable {
      public var enabled: Bool?
    }

    public var csrf: CsrfPolicy?
    public var rateLimit: RateLimitServerSettings?
    public var extauth: ExtauthSettings?
    public var transformations: Transformations?
    /// `dlpRules` for every route of the listener, unless a route or host sets its own `dlp`.
    public var dlp: DLPPolicy?
  }

  public var routeConfig: [RouteConfig]?
  public var routeOptions: RouteOptions?
}
