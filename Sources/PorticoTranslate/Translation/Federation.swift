/// Federation (spec §6): a VirtualMesh that joins the gateway's cluster and another one lets the gateway's
/// routes reach the other cluster's Services that its `federation.selectors` choose, as
/// `SERVICE.NAMESPACE.svc.CLUSTER.SUFFIX` through that cluster's east-west gateway (or straight to their
/// endpoints on a flat network). A Service such a mesh does not federate cannot be reached from here; with no
/// mesh joining the two clusters, endpoints are reached directly, as on one network.
extension DestinationResolver {
  /// How this gateway reaches a Service in another cluster.
  enum RemoteAccess {
    case direct
    case eastWest(through: Resource<VirtualMeshSpec>)
    /// Meshes join the two clusters, and none federates the Service.
    case notFederated(by: [Resource<VirtualMeshSpec>])
  }

  /// The VirtualMeshes that join the gateway's cluster and `cluster` (one without `meshes`: every cluster).
  func meshes(joining cluster: String) -> [Resource<VirtualMeshSpec>] {
    index.virtualMeshes.values.sorted { $0.id < $1.id }.filter { mesh in
      guard !mesh.hasErrors else { return false }
      guard let members = mesh.spec.meshes else { return true }
      let names = Set(members.map(\.name))
      return names.contains(cluster) && names.contains(gateway.cluster)
    }
  }

  func remoteAccess(to service: Resource<ServiceSpec>, in cluster: String) -> RemoteAccess {
    let joining = meshes(joining: cluster)
    guard !joining.isEmpty else { return .direct }
    guard let mesh = joining.first(where: { federates($0, service) }) else {
      return .notFederated(by: joining)
    }
    return mesh.spec.federation?.flatNetwork == true ? .direct : .eastWest(through: mesh)
  }

  /// Whether `mesh` federates `service` to the gateway's cluster: a selector with no destination selectors
  /// federates every Service; one that names meshes (Portico: clusters) federates to those only.
  private func federates(_ mesh: Resource<VirtualMeshSpec>, _ service: Resource<ServiceSpec>) -> Bool {
    (mesh.spec.federation?.selectors ?? []).contains { selector in
      if let targets = selector.meshes, !targets.contains(where: { $0.name == gateway.cluster }) {
        return false
      }
      guard let destinations = selector.destinationSelectors, !destinations.isEmpty else { return true }
      return destinations.contains { selects($0, service, owner: nil) }
    }
  }

  /// `VirtualMesh NS/NAME, ...`, for messages.
  static func names(of meshes: [Resource<VirtualMeshSpec>]) -> String {
    meshes.map { "VirtualMesh \($0.id.qualifiedName)" }.joined(separator: ", ")
  }

  /// The hostname suffix of `mesh`'s federated names.
  static func hostnameSuffix(of mesh: Resource<VirtualMeshSpec>?) -> String {
    mesh?.spec.federation?.hostnameSuffix ?? EastWestGateway.defaultHostnameSuffix
  }

  /// The gateway's mesh identity, which its connections to east-west gateways present; nil when the plane
  /// has not given it one (or it is broken).
  var meshIdentity: SecretData? {
    guard let identity = index.secrets[EastWestGateway.identitySecret(for: gateway)], !identity.hasErrors
    else { return nil }
    return identity.spec
  }

  /// `service`'s endpoints in `cluster` replaced by that cluster's east-west gateways, each told by SNI which
  /// Service port the connection is for; nil, with a finding, when the cluster has none.
  func eastWestRoute(
    to service: Resource<ServiceSpec>, port: Int, in cluster: String,
    through meshes: [Resource<VirtualMeshSpec>],
    members: [Upstream.Endpoint], at path: FieldPath, _ findings: inout [Finding]
  ) -> [Upstream.Endpoint]? {
    let gateways = eastWestEndpoints(in: cluster, meshes: meshes)
    guard !gateways.isEmpty else {
      findings.append(
        Finding(
          severity: .error, path: path,
          message:
            "cluster \(cluster) has no east-west gateway that the federation.ingressGatewaySelectors of \(Self.names(of: meshes)) select"
        ))
      return nil
    }
    let serverName = EastWestGateway.serverName(
      service: service.name, namespace: service.namespace, port: port, cluster: cluster,
      suffix: Self.hostnameSuffix(of: meshes.first))
    return gateways.map { gateway in
      var endpoint = gateway
      endpoint.priority = members.map(\.priority).min() ?? 0
      endpoint.locality = members.first?.locality
      endpoint.meshServerName = serverName
      return endpoint
    }
  }
}
