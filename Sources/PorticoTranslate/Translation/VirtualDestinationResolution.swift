/// VirtualDestinations (spec §6): one upstream over the Services a VirtualDestination selects in every
/// cluster, each endpoint ranked for this gateway so that traffic stays as close as it can and fails over in
/// order when closer endpoints are ejected or gone.
extension DestinationResolver {
  mutating func resolveVirtual(
    _ ref: VirtualDestinationRef, namespace: String, at path: FieldPath, _ findings: inout [Finding]
  ) -> String? {
    let id = ResourceID(.virtualDestination, namespace: ref.namespace ?? namespace, name: ref.name)
    guard let resource = index.virtualDestinations[id] else {
      findings.append(
        Finding(severity: .error, path: path, message: "VirtualDestination \(id.qualifiedName) not found"))
      return nil
    }
    guard !resource.hasErrors else {
      findings.append(
        Finding(severity: .error, path: path, message: "VirtualDestination \(id.qualifiedName) is invalid"))
      return nil
    }
    if ref.subset != nil {
      findings.append(
        Finding(
          severity: .error, path: path.appending("subset"),
          message: "subset needs workload labels, which Endpoints manifests do not carry"))
      return nil
    }
    let upstreamID = "virtual:\(id.qualifiedName)"
    if upstreams[upstreamID] != nil { return upstreamID }
    let spec = resource.spec
    var members: [(service: Resource<ServiceSpec>, cluster: String, rank: Int?)] = []
    if let failover = spec.static {
      for (rank, destination) in (failover.destinations ?? []).enumerated() {
        guard let service = destination.kubeService else { continue }
        let cluster = service.clusterName ?? gateway.cluster
        let serviceNamespace = service.namespace ?? id.namespace
        guard let found = lookup(index.services, .service, cluster, serviceNamespace, service.name) else {
          findings.append(
            Finding(
              severity: .warning, path: path,
              message:
                "VirtualDestination \(id.qualifiedName): Service \(cluster)/\(serviceNamespace)/\(service.name) not found"
            ))
          continue
        }
        members.append((found, cluster, rank))
      }
    } else if let localized = spec.localized {
      for service in index.services.values.sorted(by: { $0.id < $1.id })
      where (localized.destinationSelectors ?? []).contains(where: {
        selects($0, service, owner: id.namespace)
      }) {
        members.append((service, service.id.cluster ?? gateway.cluster, nil))
      }
    }
    // A mesh that lists its meshes (Portico: clusters) exports the destination from those clusters only.
    let listed = Set(meshes(of: spec).flatMap { ($0.spec.meshes ?? []).map(\.name) })
    if !listed.isEmpty { members.removeAll { !listed.contains($0.cluster) } }
    var endpoints: [Upstream.Endpoint] = []
    var servicePort: ServiceSpec.Port?
    /// The Service port each cluster's members serve, for the SNI name their east-west gateway routes by.
    var targets: [String: (service: Resource<ServiceSpec>, port: Int)] = [:]
    for member in members {
      let ports = member.service.spec.ports ?? []
      let port: ServiceSpec.Port? =
        if let name = spec.port.targetName { ports.first { $0.name == name } } else {
          ports.first { UInt32($0.port) == (spec.port.targetNumber ?? spec.port.number) }
        }
      guard let port else {
        findings.append(
          Finding(
            severity: .warning, path: path,
            message:
              "VirtualDestination \(id.qualifiedName): Service \(member.service.id) has no port it targets"))
        continue
      }
      servicePort = servicePort ?? port
      if targets[member.cluster] == nil { targets[member.cluster] = (member.service, Int(port.port)) }
      for var endpoint in registryEndpoints(
        cluster: member.cluster, namespace: member.service.namespace, name: member.service.name, port: port)
      {
        endpoint.priority =
          member.rank ?? localityRank(endpoint.locality, directives: spec.localized?.failoverDirectives)
        endpoints.append(endpoint)
      }
    }
    if spec.static == nil && spec.localized == nil {
      findings.append(
        Finding(
          severity: .error, path: path,
          message: "VirtualDestination \(id.qualifiedName) needs static or localized failover"))
      return nil
    }
    if endpoints.isEmpty {
      findings.append(
        Finding(
          severity: .warning, path: path,
          message: "VirtualDestination \(id.qualifiedName) has no ready endpoints"))
    }
    let remote = Set(endpoints.compactMap(\.cluster)).subtracting([gateway.cluster])
    var identity: SecretData?
    let meshes = self.meshes(of: spec)
    let named = (spec.virtualMesh.map { [$0] } ?? []) + (spec.meshList?.meshes ?? [])
    if meshes.count < named.count {
      findings.append(
        Finding(
          severity: .error, path: path,
          message: "VirtualDestination \(id.qualifiedName) names a VirtualMesh that does not exist"))
      return nil
    }
    if !remote.isEmpty, !meshes.allSatisfy({ $0.spec.federation?.flatNetwork == true }) {
      guard let meshIdentity else {
        findings.append(
          Finding(
            severity: .error, path: path,
            message:
              "VirtualDestination \(id.qualifiedName) reaches other clusters through their east-west gateways, "
              + "which needs the mesh identity Secret \(EastWestGateway.identitySecret(for: gateway).qualifiedName)"
          ))
        return nil
      }
      identity = meshIdentity
      var routed = endpoints.filter { $0.cluster == nil || $0.cluster == gateway.cluster }
      for cluster in remote.sorted() {
        guard let target = targets[cluster] else { continue }
        var problems: [Finding] = []
        guard
          let entries = eastWestRoute(
            to: target.service, port: target.port, in: cluster, through: meshes,
            members: endpoints.filter { $0.cluster == cluster }, at: path, &problems)
        else {
          findings.append(
            Finding(
              severity: .warning, path: path,
              message:
                "VirtualDestination \(id.qualifiedName): cluster \(cluster) has no east-west gateway the mesh's "
                + "federation.ingressGatewaySelectors select; its endpoints are not used"))
          continue
        }
        routed += entries
      }
      endpoints = routed
    }
    let protocolName = (spec.port.protocol ?? servicePort?.appProtocol ?? "HTTP").lowercased()
    upstreams[upstreamID] = Upstream(
      id: upstreamID, source: id, endpoints: endpoints.sorted { $0.priority < $1.priority },
      loadBalancer: .roundRobin,
      protocol: protocolName == "grpc" ? .grpc : protocolName == "http2" ? .http2 : .http, tls: nil,
      dnsRefresh: nil,
      outlierDetection: outlierDetection(spec.localized?.outlierDetection, localized: spec.localized != nil),
      meshIdentity: identity)
    return upstreamID
  }

  /// The VirtualMeshes a destination is exported through; with none, other clusters are reached directly.
  private func meshes(of spec: VirtualDestinationSpec) -> [Resource<VirtualMeshSpec>] {
    let refs = (spec.virtualMesh.map { [$0] } ?? []) + (spec.meshList?.meshes ?? [])
    return refs.compactMap { ref in
      index.virtualMeshes.values.sorted { $0.id < $1.id }.first {
        $0.name == ref.name && (ref.namespace == nil || $0.namespace == ref.namespace)
      }
    }
  }

  /// The addresses of `cluster`'s east-west gateways: the Services the meshes' `ingressGatewaySelectors`
  /// select there, on the port they name (`tls` unless given).
  func eastWestEndpoints(in cluster: String, meshes: [Resource<VirtualMeshSpec>]) -> [Upstream
    .Endpoint]
  {
    var found: [Upstream.Endpoint] = []
    for mesh in meshes {
      for selector in mesh.spec.federation?.ingressGatewaySelectors ?? [] {
        let portName = selector.portName ?? "tls"
        for service in index.services.values.sorted(by: { $0.id < $1.id })
        where (service.id.cluster ?? gateway.cluster) == cluster
          && (selector.destinationSelectors ?? []).contains(where: {
            selects($0, service, owner: mesh.namespace)
          })
        {
          guard let port = (service.spec.ports ?? []).first(where: { $0.name == portName }) else { continue }
          found += registryEndpoints(
            cluster: cluster, namespace: service.namespace, name: service.name, port: port)
        }
      }
    }
    return found
  }

  /// 0 for the gateway's own zone (or region, when zones are not known), 1 for its region, then the order of
  /// the failover directive for the gateway's locality, then everything else.
  func localityRank(
    _ locality: StaticDestinationSpec.Locality?,
    directives: [VirtualDestinationSpec.LocalizedFailover.Directive]?
  ) -> Int {
    guard let own = gateway.locality, let region = own.region else { return 0 }
    guard let locality, let endpointRegion = locality.region else { return 2 }
    if endpointRegion == region {
      return own.zone == nil || locality.zone == nil || own.zone == locality.zone ? 0 : 1
    }
    let directive = (directives ?? []).first { directive in
      directive.from?.region == region && (directive.from?.zone == nil || directive.from?.zone == own.zone)
    }
    guard let targets = directive?.to else { return 2 }
    let position = targets.firstIndex { target in
      target.region == endpointRegion && (target.zone == nil || target.zone == locality.zone)
    }
    return 2 + (position ?? targets.count)
  }

  /// Whether a destination selector picks `service`. Omitted namespaces are `owner`'s (a
  /// VirtualDestination's own), or any namespace when there is no owner (a mesh's federation).
  func selects(_ selector: DestinationSelector, _ service: Resource<ServiceSpec>, owner: String?)
    -> Bool
  {
    let cluster = service.id.cluster ?? gateway.cluster
    if let refs = selector.kubeServiceRefs {
      return (refs.services ?? []).contains { ref in
        ref.name == service.name && (ref.namespace ?? owner ?? service.namespace) == service.namespace
          && (ref.clusterName ?? gateway.cluster) == cluster
      }
    }
    guard let matcher = selector.kubeServiceMatcher else { return false }
    let namespaces = matcher.namespaces ?? [owner ?? "*"]
    let clusters = matcher.clusters ?? []
    return (namespaces.contains("*") || namespaces.contains(service.namespace))
      && (clusters.isEmpty || clusters.contains(cluster))
      && (matcher.labels ?? [:]).allSatisfy { service.labels[$0.key] == $0.value }
  }

  /// The destination's passive health: Gloo's defaults (10 consecutive errors, 2 minutes out), and no cap on
  /// how many endpoints may be out, since failing over is the point.
  private func outlierDetection(
    _ settings: VirtualDestinationSpec.LocalizedFailover.OutlierDetection?, localized: Bool
  ) -> OutlierDetection? {
    var detection = OutlierDetection()
    detection.consecutiveErrors = settings?.consecutiveGatewayErrors ?? settings?.consecutive5xxErrors ?? 10
    detection.baseEjectionTime = settings?.baseEjectionTime ?? ManifestDuration(nanoseconds: 120_000_000_000)
    detection.maxEjectionPercent = settings?.maxEjectionPercent ?? 100
    return detection
  }
}
