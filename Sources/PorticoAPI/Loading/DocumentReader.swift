/// Turns one YAML document into a resource of the snapshot.
struct DocumentReader {
  let source: SourceDocument

  private struct Envelope<Spec: Decodable>: Decodable {
    var apiVersion: String
    var kind: String
    var metadata: ObjectMeta
    var spec: Spec
    /// Copied status from a cluster is accepted and ignored.
    var status: OpaqueValue?
  }

  private struct EndpointsEnvelope: Decodable {
    var apiVersion: String
    var kind: String
    var metadata: ObjectMeta
    var subsets: [EndpointSubset]?
  }

  private struct ConfigMapEnvelope: Decodable {
    var apiVersion: String
    var kind: String
    var metadata: ObjectMeta
    var data: [String: String]?
    /// Not read by anything Portico runs: accepted, and left out.
    var binaryData: [String: String]?
    var immutable: Bool?
  }

  private struct SecretEnvelope: Decodable {
    var apiVersion: String
    var kind: String
    var metadata: ObjectMeta
    var type: String?
    var data: [String: String]?
    var stringData: [String: String]?
    var immutable: Bool?
  }

  func read(into snapshot: inout ResourceSnapshot) {
    let root = source.root
    guard case .mapping = root.content else {
      snapshot.diagnostics.append(
        Diagnostic(.error, at: root.location, "a manifest must be a mapping, found \(root.kindName)"))
      return
    }
    guard let kindName = root["kind"]?.scalar, let apiVersion = root["apiVersion"]?.scalar else {
      let missing = root["kind"]?.scalar == nil ? "kind" : "apiVersion"
      snapshot.diagnostics.append(
        Diagnostic(.error, at: root.location, path: [.key(missing)], "missing required field '\(missing)'"))
      return
    }
    guard let kind = ResourceKind(rawValue: kindName) else {
      if let versions = APIGroup.notYetImplemented[kindName], versions.contains(apiVersion) {
        snapshot.diagnostics.append(
          source.diagnostic(.warning, ["kind"], "kind \(kindName) is not implemented by Portico yet; ignored")
        )
      } else {
        let known = ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")
        snapshot.diagnostics.append(
          source.diagnostic(.error, ["kind"], "unknown kind '\(kindName)'; expected one of \(known)"))
      }
      return
    }
    guard kind.apiVersions.contains(apiVersion) else {
      snapshot.diagnostics.append(
        source.diagnostic(
          .error, ["apiVersion"],
          "\(kind.rawValue) is not served by '\(apiVersion)'; use \(kind.apiVersions.joined(separator: " or "))"
        ))
      return
    }
    let (metadata, metadataDiagnostics) = ManifestDecoder().decode(
      ObjectMeta.self, from: root["metadata"] ?? YAMLNode(.mapping([]), at: root.location),
      at: ["metadata"])
    guard let metadata else {
      snapshot.diagnostics += metadataDiagnostics
      return
    }
    let isRegistryKind = kind == .service || kind == .endpoints
    let id = ResourceID(
      kind, namespace: metadata.effectiveNamespace, name: metadata.name,
      cluster: isRegistryKind ? metadata.clusterName : nil)

    switch kind {
    case .virtualGateway:
      let decoded = decodeSpec(VirtualGatewaySpec.self, id, &snapshot)
      snapshot.virtualGateways += decoded
    case .virtualHost:
      let decoded = decodeSpec(VirtualHostSpec.self, id, &snapshot)
      snapshot.virtualHosts += decoded
    case .routeTable:
      let decoded = decodeSpec(RouteTableSpec.self, id, &snapshot)
      snapshot.routeTables += decoded
    case .trafficPolicy:
      let decoded = decodeSpec(TrafficPolicySpec.self, id, &snapshot)
      snapshot.trafficPolicies += decoded
    case .staticDestination:
      let decoded = decodeSpec(StaticDestinationSpec.self, id, &snapshot)
      snapshot.staticDestinations += decoded
    case .virtualDestination:
      let decoded = decodeSpec(VirtualDestinationSpec.self, id, &snapshot)
      snapshot.virtualDestinations += decoded
    case .virtualMesh:
      let decoded = decodeSpec(VirtualMeshSpec.self, id, &snapshot)
      snapshot.virtualMeshes += decoded
    case .rateLimitServerConfig:
      let decoded = decodeSpec(RateLimitServerConfigSpec.self, id, &snapshot)
      snapshot.rateLimitServerConfigs += decoded
    case .rateLimitClientConfig:
      let decoded = decodeSpec(RateLimitClientConfigSpec.self, id, &snapshot)
      snapshot.rateLimitClientConfigs += decoded
    case .authConfig:
      let decoded = decodeSpec(AuthConfigSpec.self, id, &snapshot)
      snapshot.authConfigs += decoded
    case .service:
      let decoded = decodeSpec(ServiceSpec.self, id, &snapshot)
      snapshot.services += decoded
    case .endpoints:
      if let (envelope, diagnostics) = decode(EndpointsEnvelope.self, id, &snapshot) {
        snapshot.endpoints.append(resource(id, envelope.metadata, envelope.subsets ?? [], diagnostics))
      }
    case .secret:
      if let (envelope, decoded) = decode(SecretEnvelope.self, id, &snapshot) {
        var diagnostics = decoded
        let body = SecretManifestBody(
          type: envelope.type, data: envelope.data, stringData: envelope.stringData,
          immutable: envelope.immutable)
        let data = body.secretData { key, message in
          diagnostics.append(source.diagnostic(.error, ["data", .key(key)], message))
        }
        snapshot.secrets.append(resource(id, envelope.metadata, data, diagnostics))
      }
    case .configMap:
      if let (envelope, diagnostics) = decode(ConfigMapEnvelope.self, id, &snapshot) {
        snapshot.configMaps.append(resource(id, envelope.metadata, envelope.data ?? [:], diagnostics))
      }
    }
  }

  private func resource<Spec>(
    _ id: ResourceID, _ metadata: ObjectMeta, _ spec: Spec, _ diagnostics: [Diagnostic]
  ) -> Resource<Spec> {
    Resource(
      id: id, apiVersion: source.root["apiVersion"]?.scalar ?? "", metadata: metadata, spec: spec,
      source: source, diagnostics: diagnostics)
  }

  private func decodeSpec<Spec: Decodable & Sendable>(
    _ type: Spec.Type, _ id: ResourceID, _ snapshot: inout ResourceSnapshot
  ) -> [Resource<Spec>] {
    guard let (envelope, diagnostics) = decode(Envelope<Spec>.self, id, &snapshot) else { return [] }
    return [resource(id, envelope.metadata, envelope.spec, diagnostics)]
  }

  /// Decodes the whole document; a document that fails to decode becomes a `BrokenResource`.
  private func decode<E: Decodable>(
    _ type: E.Type, _ id: ResourceID, _ snapshot: inout ResourceSnapshot
  ) -> (E, [Diagnostic])? {
    let (value, diagnostics) = ManifestDecoder().decode(type, from: source.root)
    if let value { return (value, diagnostics) }
    let metadata = ObjectMeta(
      name: id.name, namespace: id.namespace, labels: labels(of: source.root["metadata"]))
    snapshot.broken.append(
      BrokenResource(id: id, metadata: metadata, source: source, diagnostics: diagnostics))
    return nil
  }

  private func labels(of metadata: YAMLNode?) -> [String: String]? {
    guard case .mapping(let pairs)? = metadata?["labels"]?.content else { return nil }
    var labels: [String: String] = [:]
    for pair in pairs {
      if let key = pair.key.scalar, let value = pair.value.scalar { labels[key] = value }
    }
    return labels
  }
}
