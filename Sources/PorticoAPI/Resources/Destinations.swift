/// A service outside the mesh: fixed endpoints, each an IP or a DNS name the gateway resolves.
public struct StaticDestinationSpec: Codable, Hashable, Sendable {
  public enum UpstreamProtocol: String, ManifestEnum {
    case http = "HTTP"
    case http2 = "HTTP2"
    case grpc = "GRPC"
  }

  public struct Endpoint: Codable, Hashable, Sendable {
    public var address: String
    public var port: UInt16
    public var locality: Locality?
    public var labels: [String: String]?

    public init(address: String, port: UInt16) {
      self.address = address
      self.port = port
    }
  }

  public struct Locality: Codable, Hashable, Sendable {
    public var region: String?
    public var zone: String?

    public init(region: String? = nil, zone: String? = nil) {
      self.region = region
      self.zone = zone
    }

    /// `REGION` or `REGION/ZONE`.
    public init?(parsing text: String) {
      let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
      guard (1...2).contains(parts.count), !parts[0].isEmpty else { return nil }
      self.init(region: parts[0], zone: parts.count == 2 && !parts[1].isEmpty ? parts[1] : nil)
    }

    /// `REGION` or `REGION/ZONE`.
    public var text: String { [region ?? "", zone].compactMap { $0 }.joined(separator: "/") }
  }

  public struct TLS: Codable, Hashable, Sendable {
    public var sni: String?
    public var rootCa: String?
    public var insecureSkipVerify: Bool?
  }

  public struct DNS: Codable, Hashable, Sendable {
    public var refresh: ManifestDuration?
  }

  /// How a request picks an endpoint.
  public enum LoadBalancer: String, ManifestEnum {
    case roundRobin = "ROUND_ROBIN"
    /// The less busy of two endpoints picked at random (power of two choices).
    case leastRequest = "LEAST_REQUEST"
  }

  public var endpoints: [Endpoint]?
  public var loadBalancer: LoadBalancer?
  public var `protocol`: UpstreamProtocol?
  public var tls: TLS?
  public var dns: DNS?
}

/// A Kubernetes Service (v1), as far as routing needs it.
public struct ServiceSpec: Codable, Hashable, Sendable {
  public struct Port: Codable, Hashable, Sendable {
    public var name: String?
    public var port: UInt16
    public var targetPort: OpaqueValue?
    public var `protocol`: String?
    public var appProtocol: String?
    public var nodePort: UInt16?
  }

  public var ports: [Port]?
  public var selector: [String: String]?
  public var clusterIP: String?
  public var clusterIPs: [String]?
  public var type: String?
  /// Kubernetes scheduling and addressing settings; accepted so that exported Services load, and not used.
  public var sessionAffinity: OpaqueValue?
  public var sessionAffinityConfig: OpaqueValue?
  public var ipFamilies: OpaqueValue?
  public var ipFamilyPolicy: OpaqueValue?
  public var internalTrafficPolicy: OpaqueValue?
  public var externalTrafficPolicy: OpaqueValue?
  public var publishNotReadyAddresses: Bool?
}

/// Kubernetes Endpoints (v1): the addresses behind a Service.
public struct EndpointSubset: Codable, Hashable, Sendable {
  public struct Address: Codable, Hashable, Sendable {
    public var ip: String
    public var hostname: String?
    public var nodeName: String?
    public var targetRef: OpaqueValue?
  }

  public struct Port: Codable, Hashable, Sendable {
    public var name: String?
    public var port: UInt16
    public var `protocol`: String?
    public var appProtocol: String?
  }

  public var addresses: [Address]?
  public var notReadyAddresses: [Address]?
  public var ports: [Port]?
}
