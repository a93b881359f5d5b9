/// The kinds of resource Portico reads.
public enum ResourceKind: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
  case virtualGateway = "VirtualGateway"
  case virtualHost = "VirtualHost"
  case routeTable = "RouteTable"
  case trafficPolicy = "TrafficPolicy"
  case staticDestination = "StaticDestination"
  case virtualDestination = "VirtualDestination"
  case virtualMesh = "VirtualMesh"
  case rateLimitServerConfig = "RateLimitServerConfig"
  case rateLimitClientConfig = "RateLimitClientConfig"
  case authConfig = "AuthConfig"
  case service = "Service"
  case endpoints = "Endpoints"
  case secret = "Secret"
  case configMap = "ConfigMap"

  public static func < (lhs: Self, rhs: Self) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }

  /// The `apiVersion`s accepted for this kind.
  public var apiVersions: [String] {
    switch self {
    case .virtualGateway, .virtualHost, .routeTable:
      return [APIGroup.glooGateway, APIGroup.portico]
    case .trafficPolicy:
      return [APIGroup.glooNetworking, APIGroup.portico]
    case .staticDestination:
      return [APIGroup.portico]
    case .virtualDestination:
      return [APIGroup.glooGateway, APIGroup.portico]
    case .virtualMesh:
      return [APIGroup.glooNetworking, APIGroup.portico]
    case .rateLimitServerConfig, .rateLimitClientConfig:
      return [APIGroup.glooGateway, APIGroup.portico]
    case .authConfig:
      return [APIGroup.glooEnterprise, APIGroup.portico]
    case .service, .endpoints, .secret, .configMap:
      return [APIGroup.kubernetesCore]
    }
  }
}

/// API groups and versions, both the upstream (field-compatible) ones and Portico's own.
public enum APIGroup {
  public static let glooGateway = "networking.enterprise.mesh.gloo.solo.io/v1beta1"
  public static let glooNetworking = "networking.mesh.gloo.solo.io/v1"
  public static let portico = "portico.dev/v1"
  public static let glooEnterprise = "enterprise.gloo.solo.io/v1"
  public static let kubernetesCore = "v1"

  /// Upstream kinds that load with a warning until Portico implements them.
  public static let notYetImplemented: [String: [String]] = [
    "EndpointSlice": ["discovery.k8s.io/v1"]
  ]
}

/// Identifies a resource: kind, namespace and name (and, for registry kinds, the cluster).
public struct ResourceID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
  public var kind: ResourceKind
  public var namespace: String
  public var name: String
  public var cluster: String?

  public init(_ kind: ResourceKind, namespace: String, name: String, cluster: String? = nil) {
    self.kind = kind
    self.namespace = namespace
    self.name = name
    self.cluster = cluster
  }

  /// `namespace/name`.
  public var qualifiedName: String { "\(namespace)/\(name)" }

  public var description: String {
    "\(kind.rawValue) \(cluster.map { "\($0)/" } ?? "")\(namespace)/\(name)"
  }

  public static func < (lhs: Self, rhs: Self) -> Bool {
    (lhs.kind, lhs.namespace, lhs.name, lhs.cluster ?? "") < (
      rhs.kind, rhs.namespace, rhs.name, rhs.cluster ?? ""
    )
  }
}

/// Where a resource was written: the file and the parsed document, for placing later diagnostics.
public struct SourceDocument: Sendable {
  public let file: String
  public let root: YAMLNode

  public init(file: String, root: YAMLNode) {
    self.file = file
    self.root = root
  }

  public func location(of path: FieldPath) -> SourceLocation { root.location(of: path) }

  public func diagnostic(_ severity: Diagnostic.Severity, _ path: FieldPath, _ message: String) -> Diagnostic
  {
    Diagnostic(severity, at: location(of: path), path: path, message)
  }
}

/// A decoded resource with its source and the diagnostics found while loading and validating it.
public struct Resource<Spec: Sendable>: Sendable {
  public let id: ResourceID
  public let apiVersion: String
  public internal(set) var metadata: ObjectMeta
  public let spec: Spec
  public let source: SourceDocument
  public internal(set) var diagnostics: [Diagnostic]

  public init(
    id: ResourceID, apiVersion: String, metadata: ObjectMeta, spec: Spec, source: SourceDocument,
    diagnostics: [Diagnostic] = []
  ) {
    self.id = id
    self.apiVersion = apiVersion
    self.metadata = metadata
    self.spec = spec
    self.source = source
    self.diagnostics = diagnostics
  }

  public var namespace: String { id.namespace }
  public var name: String { id.name }
  public var labels: [String: String] { metadata.labels ?? [:] }
  public var hasErrors: Bool { diagnostics.hasErrors }
}

/// A document whose kind and name could be read but whose body could not be decoded. It still takes part
/// in delegation, so that the routes it should have provided are replaced rather than silently missing.
public struct BrokenResource: Sendable {
  public let id: ResourceID
  public let metadata: ObjectMeta
  public let source: SourceDocument
  public let diagnostics: [Diagnostic]

  public var labels: [String: String] { metadata.labels ?? [:] }
}
