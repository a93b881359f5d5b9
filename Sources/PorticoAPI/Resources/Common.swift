/// Kubernetes-style object metadata.
public struct ObjectMeta: Codable, Hashable, Sendable {
  public var name: String
  public var namespace: String?
  public var labels: [String: String]?
  public var annotations: [String: String]?
  /// RFC 3339; orders TrafficPolicies (the older one wins a field).
  public var creationTimestamp: String?
  public var generation: Int64?
  /// The cluster a Service or Endpoints belongs to; defaults to the gateway's own cluster.
  public var clusterName: String?
  public var uid: String?
  public var resourceVersion: String?
  /// Written by Kubernetes itself; accepted so that exported manifests load, and not used.
  public var managedFields: OpaqueValue?
  public var ownerReferences: OpaqueValue?
  public var finalizers: OpaqueValue?
  public var selfLink: String?
  public var deletionTimestamp: String?
  public var deletionGracePeriodSeconds: Int64?

  public init(name: String, namespace: String? = nil, labels: [String: String]? = nil) {
    self.name = name
    self.namespace = namespace
    self.labels = labels
  }

  public static let defaultNamespace = "default"

  /// The namespace, with Kubernetes' default when none is written.
  public var effectiveNamespace: String { namespace ?? Self.defaultNamespace }
}

/// A reference to a resource by name; the namespace defaults to the referring resource's.
public struct ObjectRef: Codable, Hashable, Sendable {
  public var name: String
  public var namespace: String?

  public init(name: String, namespace: String? = nil) {
    self.name = name
    self.namespace = namespace
  }
}

/// A reference to a resource in a named cluster.
public struct ClusterObjectRef: Codable, Hashable, Sendable {
  public var name: String
  public var namespace: String?
  public var clusterName: String?

  public init(name: String, namespace: String? = nil, clusterName: String? = nil) {
    self.name = name
    self.namespace = namespace
    self.clusterName = clusterName
  }
}

/// Selects resources by namespace and labels. Omitted namespaces mean the owning resource's namespace;
/// `"*"` means every namespace.
public struct ObjectSelector: Codable, Hashable, Sendable {
  public var namespaces: [String]?
  public var labels: [String: String]?
  public var expressions: [LabelExpression]?

  public init(
    namespaces: [String]? = nil, labels: [String: String]? = nil, expressions: [LabelExpression]? = nil
  ) {
    self.namespaces = namespaces
    self.labels = labels
    self.expressions = expressions
  }
}

/// A set-based label requirement, as in Kubernetes label selectors.
public struct LabelExpression: Codable, Hashable, Sendable {
  public enum Operator: String, ManifestEnum {
    case equals = "Equals"
    case doubleEquals = "DoubleEquals"
    case notEquals = "NotEquals"
    case `in` = "In"
    case notIn = "NotIn"
    case exists = "Exists"
    case doesNotExist = "DoesNotExist"
  }

  public var key: String
  public var `operator`: Operator
  public var values: [String]?

  public init(key: String, operator: Operator, values: [String]? = nil) {
    self.key = key
    self.operator = `operator`
    self.values = values
  }
}
