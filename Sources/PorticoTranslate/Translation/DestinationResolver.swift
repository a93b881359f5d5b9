/// Resolves route destinations to upstreams: StaticDestinations, and kubeServices through the
/// Service/Endpoints registry of their cluster (spec §11.6, §11.7).
struct DestinationResolver {
  let index: ResourceIndex
  let gateway: GatewayIdentity
  var upstreams: [String: Upstream] = [:]

  init(index: ResourceIndex, gateway: GatewayIdentity) {
    self.index = index
    self.gateway = gateway
  }

  struct Finding {
    let severity: Diagnostic.Severity
    let path: FieldPath
    let message: String
  }

  /// The destinations that resolved, and findings placed relative to `path` (the destinations list).
  mutating func resolve(_ destinations: [WeightedDestination], namespace: String, at path: FieldPath)
    -> (destinations: [RouteActionConfig.DestinationConfig], findings: [Finding])
  {
    var resolved: [RouteActionConfig.DestinationConfig] = []
    var findings: [Finding] = []
    let anyWeighted = destinations.contains { $0.weight != nil }
    for (position, destination) in destinations.enumerated() {
      let at = path.appending(position)
      let weight = destination.weight ?? (anyWeighted ? 0 : 1)
      var upstream: String?
      if let ref = destination.staticDestination {
        upstream = resolveStatic(ref, namespace: namespace, at: at.appending("staticDestination"), &findings)
      } else if let service = destination.kubeService {
        upstream = resolveService(service, namespace: namespace, at: at.appending("kubeService"), &findings)
      } else if let ref = destination.virtualDestination {
        upstream = resolveVirtual(
          ref, namespace: namespace, at: at.appending("virtualDestination"), &findings)
      }
      guard let upstream else { continue }
      resolved.append(
        .init(upstream: upstream, weight: weight, headerManipulation: destination.options?.headerManipulation)
      )
    }
    if resolved.isEmpty, !findings.contains(where: { $0.severity == .error }) {
      findings.append(Finding(severity: .error, path: path, message: "no destination can receive traffic"))
    } else if !resolved.isEmpty, resolved.allSatisfy({ $0.weight == 0 }) {
      findings.append(Finding(severity: .error, path: path, message: "every destination has weight 0"))
    }
    return (resolved, findings)
  }

  private mutating func resolveStatic(
    _ ref: ObjectRef, namespace: String, at path: FieldPath, _ findings: inout [Finding]
  ) -> String? {
    let id = ref.id(.staticDestination, defaultNamespace: namespace)
    guard let resource = index.staticDestinations[id] else {
      findings.append(
        Finding(severity: .error, path: path, message: "StaticDestination \(id.qualifiedName) not found"))
      return nil
    }
    if resource.hasErrors {
      findings.append(
        Finding(severity: .error, path: path, message: "StaticDestination \(id.qualifiedName) is invalid"))
      return nil
    }
    let upstreamID = "static:\(id.qualifiedName)"
    if upstreams[upstreamID] == nil {
      let spec = resource.spec
      upstreams[upstreamID] = Upstream(
        id: upstreamID, source: id,
        endpoints: (spec.endpoints ?? []).map {
          .init(address: $0.address, port: Int($0.port), locality: $0.locality, labels: $0.labels)
        },
        loadBalancer: spec.loadBalancer ?? .roundRobin, protocol: spec.protocol ?? .http, tls: spec.tls,
        dnsRefresh: spec.dns?.refresh)
    }
    return upstreamID
  }

  mutating func resolveService(
    _ ref: KubeServiceDestination, namespace: String, at path: FieldPath, _ findings: inout [Finding]
  ) -> String? {
    let cluster = ref.clusterName ?? gateway.cluster
    let serviceNamespace = ref.namespace ?? namespace
    let name = "\(cluster)/\(serviceNamespace)/\(ref.name)"
    guard let service = lookup(index.services, .service, cluster, serviceNamespace, ref.name) else {
      findings.append(Finding(severity: .error, path: path, message: "Service \(name) not found"))
      return nil
    }
    let ports = service.spec.ports ?? []
    let port: ServiceSpec.Port
    if let wanted = ref.port {
      guard let match = ports.first(where: { UInt32($0.port) == wanted }) else {
        findings.append(
          Finding(
            severity: .error, path: path.appending("port"), message: "Service \(name) has no port \(wanted)"))
        return nil
      }
      port = match
    } else if ports.count == 1 {
      port = ports[0]
    } else {
      let message =
        ports.isEmpty ? "Service \(name) has no ports" : "Service \(name) has several ports; give port"
      findings.append(Finding(severity: .error, path: path, message: message))
      return nil
    }
    if ref.subset != nil {
      findings.append(
        Finding(
          severity: .warning, path: path.appending("subset"),
          message:
            "subset needs workload labels, which Endpoints manifests do not carry; every endpoint is used"))
    }
    var endpoints = registryEndpoints(
      cluster: cluster, namespace: serviceNamespace, name: ref.name, port: port)
    if endpoints.isEmpty {
      findings.append(
        Finding(severity: .warning, path: path, message: "Service \(name) has no ready endpoints"))
    }
    var identity: SecretData?
    if cluster != gateway.cluster {
      switch remoteAccess(to: service, in: cluster) {
      case .direct:
        break
      case .notFederated(let meshes):
        findings.append(
          Finding(
            severity: .error, path: path,
            message:
              "Service \(name) is in cluster \(cluster), which \(Self.names(of: meshes)) joins with this gateway's, but no "
              + "federation.selectors federates it; federate it or reach it through a VirtualDestination"))
        return nil
      case .eastWest(let mesh):
        guard let meshIdentity else {
          findings.append(
            Finding(
              severity: .error, path: path,
              message:
                "Service \(name) is reached through cluster \(cluster)'s east-west gateway, which needs the mesh "
                + "identity Secret \(EastWestGateway.identitySecret(for: gateway).qualifiedName)"))
          return nil
        }
        guard
          let entries = eastWestRoute(
            to: service, port: Int(port.port), in: cluster, through: [mesh], members: endpoints, at: path,
            &findings)
        else { return nil }
        endpoints = entries
        identity = meshIdentity
      }
    }
    let upstreamID = "kube:\(name):\(port.port)"
    if upstreams[upstreamID] == nil {
      let upstreamProtocol: StaticDestinationSpec.UpstreamProtocol =
        switch (port.appProtocol ?? port.name ?? "").lowercased() {
        case "grpc": .grpc
        case "http2", "h2c", "kubernetes.io/h2c": .http2
        default: .http
        }
      upstreams[upstreamID] = Upstream(
        id: upstreamID, source: service.id, endpoints: endpoints, loadBalancer: .roundRobin,
        protocol: upstreamProtocol, tls: nil,
        dnsRefresh: nil, meshIdentity: identity)
    }
    return upstreamID
  }

  /// The ready addresses of a Service's Endpoints for `port`, with the locality their
  /// `topology.kubernetes.io/region` and `zone` labels give.
  func registryEndpoints(cluster: String, namespace: String, name: String, port: ServiceSpec.Port)
    -> [Upstream.Endpoint]
  {
    guard let resource = lookup(index.endpoints, .endpoints, cluster, namespace, name) else { return [] }
    let labels = resource.labels
    let region = labels["topology.kubernetes.io/region"]
    let zone = labels["topology.kubernetes.io/zone"]
    let locality =
      region == nil && zone == nil ? nil : StaticDestinationSpec.Locality(region: region, zone: zone)
    var endpoints: [Upstream.Endpoint] = []
    for subset in resource.spec {
      let subsetPorts = subset.ports ?? []
      let target = subsetPorts.count == 1 ? subsetPorts.first : subsetPorts.first { $0.name == port.name }
      guard let target else { continue }
      endpoints += (subset.addresses ?? []).map {
        .init(address: $0.ip, port: Int(target.port), locality: locality, cluster: cluster)
      }
    }
    return endpoints
  }

  /// A registry resource in `cluster`; one written without `metadata.clusterName` belongs to the gateway's.
  func lookup<Spec>(
    _ table: [ResourceID: Resource<Spec>], _ kind: ResourceKind, _ cluster: String, _ namespace: String,
    _ name: String
  ) -> Resource<Spec>? {
    if let found = table[ResourceID(kind, namespace: namespace, name: name, cluster: cluster)] {
      return found
    }
    guard cluster == gateway.cluster else { return nil }
    return table[ResourceID(kind, namespace: namespace, name: name, cluster: nil)]
  }
}
