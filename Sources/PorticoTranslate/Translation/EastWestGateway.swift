/// A gateway's east-west listener, as configuration: one VirtualGateway, generated for the gateway, that
/// terminates mutual TLS with the mesh identity on the east-west port and routes each SNI name
/// (`PORT.SERVICE.NAMESPACE.svc.CLUSTER.SUFFIX`, the suffix `global` unless the meshes that join the cluster
/// set `federation.hostnameSuffix`) to that Service in the gateway's own cluster. Generated as
/// resources, so that it is translated, explained and shown like any other.
public enum EastWestGateway {
  /// The port name of the east-west listener.
  public static let portName = "east-west"
  /// Where the plane puts each gateway's mesh identity, in the gateway's namespace: a `kubernetes.io/tls`
  /// Secret with `tls.crt`, `tls.key` and `ca.crt` (the mesh CA, the only root trusted on the east-west
  /// listener and by its callers).
  public static func identitySecret(for gateway: GatewayIdentity) -> ResourceID {
    ResourceID(.secret, namespace: gateway.namespace, name: "portico-mesh-identity")
  }

  /// The suffix of federated names when a mesh does not set one.
  public static let defaultHostnameSuffix = "global"

  /// The SNI name a caller sends for a Service port in a cluster.
  public static func serverName(
    service: String, namespace: String, port: Int, cluster: String, suffix: String = defaultHostnameSuffix
  ) -> String {
    "\(port).\(service).\(namespace).svc.\(cluster).\(suffix)"
  }

  /// The suffixes callers may use for this gateway's cluster: `global`, and those of the meshes joining it.
  static func hostnameSuffixes(in snapshot: ResourceSnapshot, for gateway: GatewayIdentity) -> [String] {
    var suffixes = [defaultHostnameSuffix]
    for mesh in snapshot.virtualMeshes.sorted(by: { $0.id < $1.id })
    where mesh.spec.meshes?.contains(where: { $0.name == gateway.cluster }) ?? true {
      if let suffix = mesh.spec.federation?.hostnameSuffix, !suffixes.contains(suffix) {
        suffixes.append(suffix)
      }
    }
    return suffixes
  }

  /// `snapshot` with the east-west VirtualGateway for `gateway` added, when the gateway has an east-west port.
  static func adding(to snapshot: ResourceSnapshot, for gateway: GatewayIdentity) -> ResourceSnapshot {
    guard gateway.eastWestPort != nil else { return snapshot }
    var handlers: [String] = []
    let suffixes = hostnameSuffixes(in: snapshot, for: gateway)
    for service in snapshot.services where (service.id.cluster ?? gateway.cluster) == gateway.cluster {
      for port in service.spec.ports ?? [] {
        let names = suffixes.map {
          "\""
            + serverName(
              service: service.name, namespace: service.namespace, port: Int(port.port),
              cluster: gateway.cluster,
              suffix: $0) + "\""
        }
        handlers.append(
          """
            - connectionMatch: {serverNames: [\(names.joined(separator: ", "))]}
              connectionOptions: {sslConfig: {secretName: \(identitySecret(for: gateway).name), tlsMode: MUTUAL}}
              http:
                routeConfig:
                - virtualHost:
                    domains: ["*"]
                    routes:
                    - matchers: [{uri: {prefix: /}}]
                      routeAction:
                        destinations:
                        - kubeService: {name: "\(service.name)", namespace: "\(service.namespace)", clusterName: "\(gateway.cluster)", port: \(port.port)}
          """)
      }
    }
    guard !handlers.isEmpty else { return snapshot }
    let manifest = """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: east-west, namespace: "\(gateway.namespace)"}
      spec:
        ingressGatewaySelectors:
        - portName: \(portName)
          destinationSelectors:
          - kubeServiceRefs:
              services: [{name: "\(gateway.name)", namespace: "\(gateway.namespace)", clusterName: "\(gateway.cluster)"}]
        connectionHandlers:
      \(handlers.joined(separator: "\n"))

      """
    let generated = ManifestLoader().load(
      text: manifest, file: "<east-west gateway of \(gateway.displayName)>")
    var combined = snapshot
    combined.virtualGateways += generated.virtualGateways
    combined.diagnostics += generated.allDiagnostics.filter(\.isError)
    return combined
  }
}
