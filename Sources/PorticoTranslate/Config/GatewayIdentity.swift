@_exported import PorticoAPI

/// Who a gateway is: what VirtualGateways select it by, and the ports it can listen on.
public struct GatewayIdentity: Hashable, Sendable, Codable {
  public var name: String
  public var namespace: String
  public var cluster: String
  public var labels: [String: String]
  /// Port name → port number. Empty means every port name a VirtualGateway asks for is accepted.
  public var ports: [String: Int]
  /// Where the gateway runs; VirtualDestinations prefer endpoints in the same region and zone.
  public var locality: StaticDestinationSpec.Locality?
  /// The port of the gateway's east-west listener, where other clusters' gateways reach this cluster's
  /// services over mutual TLS with the mesh CA; nil when it has none.
  public var eastWestPort: Int?

  public static let defaultCluster = "local"

  /// `NAMESPACE/NAME@CLUSTER`: how a gateway is named in logs and status.
  public var displayName: String { "\(namespace)/\(name)@\(cluster)" }

  public init(
    name: String, namespace: String = ObjectMeta.defaultNamespace, cluster: String = defaultCluster,
    labels: [String: String] = [:], ports: [String: Int] = [:],
    locality: StaticDestinationSpec.Locality? = nil
  ) {
    self.name = name
    self.namespace = namespace
    self.cluster = cluster
    self.labels = labels
    self.ports = ports
    self.locality = locality
  }

  /// An identity that the first selector of `virtualGateway` selects: what a gateway deployed for it would be.
  /// Used to check and show a folder's configuration without naming a gateway.
  public static func implied(by virtualGateway: Resource<VirtualGatewaySpec>) -> GatewayIdentity {
    let selector = virtualGateway.spec.ingressGatewaySelectors?.first?.destinationSelectors?.first
    if let service = selector?.kubeServiceRefs?.services?.first {
      return GatewayIdentity(
        name: service.name, namespace: service.namespace ?? virtualGateway.namespace,
        cluster: service.clusterName ?? defaultCluster)
    }
    let matcher = selector?.kubeServiceMatcher
    let namespace = matcher?.namespaces?.first { $0 != "*" } ?? virtualGateway.namespace
    return GatewayIdentity(
      name: virtualGateway.name, namespace: namespace,
      cluster: matcher?.clusters?.first ?? defaultCluster, labels: matcher?.labels ?? [:])
  }
}
