/// A service reachable under one global hostname from every cluster of a mesh, served by the Services it
/// selects in several clusters, with failover between them (spec §6).
public struct VirtualDestinationSpec: Codable, Hashable, Sendable {
  public struct Port: Codable, Hashable, Sendable {
    public var number: UInt32
    public var `protocol`: String?
    /// The Service port the traffic goes to, by name or number; the port `number` when neither is given.
    public var targetName: String?
    public var targetNumber: UInt32?
  }

  public struct MeshList: Codable, Hashable, Sendable {
    public var meshes: [ObjectRef]?
  }

  /// Priority order: the first destination with a healthy endpoint takes the traffic.
  public struct StaticFailover: Codable, Hashable, Sendable {
    public struct Destination: Codable, Hashable, Sendable {
      public var kubeService: ClusterObjectRef?
    }

    public var destinations: [Destination]?
  }

  /// Locality order: the caller's own zone, then its region, then the rest (or as the directives say).
  public struct LocalizedFailover: Codable, Hashable, Sendable {
    public struct Locality: Codable, Hashable, Sendable {
      public var region: String?
      public var zone: String?
      public var subZone: String?
    }

    public struct Directive: Codable, Hashable, Sendable {
      public var from: Locality?
      public var to: [Locality]?
    }

    public struct OutlierDetection: Codable, Hashable, Sendable {
      public var consecutiveGatewayErrors: UInt32?
      public var consecutive5xxErrors: UInt32?
      public var interval: ManifestDuration?
      public var baseEjectionTime: ManifestDuration?
      public var maxEjectionPercent: UInt32?
    }

    public var destinationSelectors: [DestinationSelector]?
    public var failoverDirectives: [Directive]?
    public var outlierDetection: OutlierDetection?
  }

  public var hostname: String
  public var port: Port
  public var virtualMesh: ObjectRef?
  public var meshList: MeshList?
  public var `static`: StaticFailover?
  public var localized: LocalizedFailover?
}

/// Clusters that trust one root and reach each other's services (spec §6).
public struct VirtualMeshSpec: Codable, Hashable, Sendable {
  public struct MTLSConfig: Codable, Hashable, Sendable {
    public struct Shared: Codable, Hashable, Sendable {
      public struct RootCertificateAuthority: Codable, Hashable, Sendable {
        /// A CA the plane makes (the default).
        public var generated: OpaqueValue?
        /// A `kubernetes.io/tls` Secret holding the root's certificate and key.
        public var secret: ObjectRef?
      }

      public var rootCertificateAuthority: RootCertificateAuthority?
    }

    public var shared: Shared?
    public var autoRestartPods: Bool?
  }

  public struct Federation: Codable, Hashable, Sendable {
    public struct Selector: Codable, Hashable, Sendable {
      public var destinationSelectors: [DestinationSelector]?
      public var meshes: [ObjectRef]?
    }

    public var selectors: [Selector]?
    /// The east-west gateways remote traffic enters a cluster through; port name `tls` unless given.
    public var ingressGatewaySelectors: [IngressGatewaySelector]?
    /// Endpoints in every cluster can be reached directly: no east-west gateway in between.
    public var flatNetwork: Bool?
    public var hostnameSuffix: String?
    public var tcpKeepalive: OpaqueValue?
    public var tlsEnforcementSettings: OpaqueValue?
  }

  /// The meshes (clusters) federated; every registered cluster when omitted.
  public var meshes: [ObjectRef]?
  public var mtlsConfig: MTLSConfig?
  public var federation: Federation?
  public var globalAccessPolicy: String?
}
