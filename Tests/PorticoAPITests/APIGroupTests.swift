import PorticoAPI
import XCTest

/// Which apiVersion serves which kind (§11.9), unknown kinds, and kinds that load with a warning.
final class APIGroupTests: XCTestCase {
  static let gatewayGroups = ["networking.enterprise.mesh.gloo.solo.io/v1beta1", "portico.dev/v1"]
  static let policyGroups = ["networking.mesh.gloo.solo.io/v1", "portico.dev/v1"]

  func testAPIGroupConstants() {
    XCTAssertEqual(APIGroup.glooGateway, "networking.enterprise.mesh.gloo.solo.io/v1beta1")
    XCTAssertEqual(APIGroup.glooNetworking, "networking.mesh.gloo.solo.io/v1")
    XCTAssertEqual(APIGroup.portico, "portico.dev/v1")
    XCTAssertEqual(APIGroup.kubernetesCore, "v1")
    XCTAssertEqual(ResourceKind.virtualGateway.apiVersions, Self.gatewayGroups)
    XCTAssertEqual(ResourceKind.virtualHost.apiVersions, Self.gatewayGroups)
    XCTAssertEqual(ResourceKind.routeTable.apiVersions, Self.gatewayGroups)
    XCTAssertEqual(ResourceKind.trafficPolicy.apiVersions, Self.policyGroups)
    XCTAssertEqual(ResourceKind.staticDestination.apiVersions, ["portico.dev/v1"])
    XCTAssertEqual(ResourceKind.service.apiVersions, ["v1"])
    XCTAssertEqual(ResourceKind.endpoints.apiVersions, ["v1"])
    XCTAssertEqual(ResourceKind.secret.apiVersions, ["v1"])
  }

  func testGatewayKindsLoadUnderBothGroups() {
    for version in Self.gatewayGroups {
      let text = """
        apiVersion: \(version)
        kind: VirtualGateway
        metadata: {name: edge, namespace: gw}
        spec:
          ingressGatewaySelectors:
          - portName: http
            destinationSelectors:
            - kubeServiceMatcher: {labels: {app: gateway}, clusters: [east]}
          connectionHandlers:
          - http:
              routeConfig:
              - virtualHostSelector: {namespaces: ["*"], labels: {exposed: "yes"}}
        ---
        apiVersion: \(version)
        kind: VirtualHost
        metadata: {name: store, namespace: store, labels: {exposed: "yes"}}
        spec:
          domains: [store.example.com]
          routes:
          - name: orders
            matchers: [{uri: {prefix: /orders}}]
            delegateAction: {refs: [{name: orders, namespace: team}]}
        ---
        apiVersion: \(version)
        kind: RouteTable
        metadata: {name: orders, namespace: team, labels: {area: orders}}
        spec:
          weight: 5
          routes:
          - name: list
            matchers: [{uri: {prefix: /list}, method: GET}]
            routeAction:
              destinations:
              - kubeService: {name: orders, namespace: team, clusterName: east}
                weight: 9
        """
      let snapshot = load(text)
      assertNoDiagnostics(snapshot)

      XCTAssertEqual(snapshot.virtualGateways.count, 1, version)
      XCTAssertEqual(snapshot.virtualHosts.count, 1, version)
      XCTAssertEqual(snapshot.routeTables.count, 1, version)
      XCTAssertTrue(snapshot.broken.isEmpty, version)

      if let gateway = snapshot.virtualGateways.first {
        XCTAssertEqual(gateway.apiVersion, version)
        XCTAssertEqual(gateway.id, ResourceID(.virtualGateway, namespace: "gw", name: "edge"))
        let selector = gateway.spec.connectionHandlers?.first?.http?.routeConfig?.first?.virtualHostSelector
        XCTAssertEqual(selector?.namespaces, ["*"])
        XCTAssertEqual(selector?.labels, ["exposed": "yes"])
        XCTAssertEqual(gateway.spec.ingressGatewaySelectors?.first?.portName, "http")
        XCTAssertEqual(
          gateway.spec.ingressGatewaySelectors?.first?.destinationSelectors?.first?.kubeServiceMatcher?
            .clusters,
          ["east"])
      }
      if let host = snapshot.virtualHosts.first {
        XCTAssertEqual(host.apiVersion, version)
        XCTAssertEqual(host.id, ResourceID(.virtualHost, namespace: "store", name: "store"))
        XCTAssertEqual(host.labels, ["exposed": "yes"])
        XCTAssertEqual(host.spec.domains, ["store.example.com"])
        XCTAssertEqual(
          host.spec.routes?.first?.delegateAction?.refs, [ObjectRef(name: "orders", namespace: "team")])
      }
      if let table = snapshot.routeTables.first {
        XCTAssertEqual(table.apiVersion, version)
        XCTAssertEqual(table.id, ResourceID(.routeTable, namespace: "team", name: "orders"))
        XCTAssertEqual(table.spec.weight, 5)
        let route = table.spec.routes?.first
        XCTAssertEqual(route?.name, "list")
        XCTAssertEqual(route?.matchers, [HTTPMatcher(uri: StringMatch(prefix: "/list"), method: "GET")])
        XCTAssertEqual(route?.routeAction?.destinations?.first?.weight, 9)
        XCTAssertEqual(
          route?.routeAction?.destinations?.first?.kubeService,
          KubeServiceDestination(name: "orders", namespace: "team", clusterName: "east"))
        XCTAssertEqual(route?.failedToDecode, false)
      }
    }
  }

  func testTrafficPolicyLoadsUnderBothGroups() {
    for version in Self.policyGroups {
      let text = """
        apiVersion: \(version)
        kind: TrafficPolicy
        metadata: {name: timeouts, namespace: team, creationTimestamp: "2024-01-01T00:00:00Z"}
        spec:
          routeSelector:
          - routeTableRefs: [{name: orders, namespace: team}]
            routeLabelMatcher: {tier: gold}
          policy:
            requestTimeout: 5s
            retries: {attempts: 3, perTryTimeout: 2s}
        """
      let snapshot = load(text)
      assertNoDiagnostics(snapshot)
      XCTAssertEqual(snapshot.trafficPolicies.count, 1, version)
      guard let policy = snapshot.trafficPolicies.first else { continue }
      XCTAssertEqual(policy.apiVersion, version)
      XCTAssertEqual(policy.id, ResourceID(.trafficPolicy, namespace: "team", name: "timeouts"))
      XCTAssertEqual(policy.metadata.creationTimestamp, "2024-01-01T00:00:00Z")
      XCTAssertEqual(policy.spec.routeSelector?.first?.routeLabelMatcher, ["tier": "gold"])
      XCTAssertEqual(
        policy.spec.routeSelector?.first?.routeTableRefs, [ObjectRef(name: "orders", namespace: "team")])
      XCTAssertEqual(policy.spec.policy?.requestTimeout?.nanoseconds, 5_000_000_000)
      XCTAssertEqual(policy.spec.policy?.retries?.attempts, 3)
      XCTAssertEqual(policy.spec.policy?.retries?.perTryTimeout?.nanoseconds, 2_000_000_000)
    }
  }

  func testStaticDestinationLoads() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: StaticDestination
      metadata: {name: legacy, namespace: team}
      spec:
        endpoints:
        - address: 10.0.0.7
          port: 8080
          locality: {region: eu, zone: eu-1a}
          labels: {version: v1}
        - address: legacy.example.com
          port: 443
        protocol: HTTP2
        tls: {sni: legacy.example.com, insecureSkipVerify: false}
        dns: {refresh: 30s}
      """)
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.staticDestinations.count, 1)
    guard let destination = snapshot.staticDestinations.first else { return }
    XCTAssertEqual(destination.id, ResourceID(.staticDestination, namespace: "team", name: "legacy"))
    XCTAssertEqual(destination.spec.endpoints?.map(\.address), ["10.0.0.7", "legacy.example.com"])
    XCTAssertEqual(destination.spec.endpoints?.map(\.port), [8080, 443])
    XCTAssertEqual(destination.spec.endpoints?.first?.locality?.zone, "eu-1a")
    XCTAssertEqual(destination.spec.endpoints?.first?.labels, ["version": "v1"])
    XCTAssertEqual(destination.spec.protocol, .http2)
    XCTAssertEqual(destination.spec.tls?.sni, "legacy.example.com")
    XCTAssertEqual(destination.spec.tls?.insecureSkipVerify, false)
    XCTAssertEqual(destination.spec.dns?.refresh?.nanoseconds, 30_000_000_000)
  }

  func testKubernetesKindsLoad() {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Service
      metadata: {name: orders, namespace: team, clusterName: east}
      spec:
        selector: {app: orders}
        ports:
        - {name: http, port: 80, targetPort: 8080, protocol: TCP}
        - {name: grpc, port: 9090, targetPort: grpc}
      status: {loadBalancer: {}}
      ---
      apiVersion: v1
      kind: Endpoints
      metadata: {name: orders, namespace: team, clusterName: east}
      subsets:
      - addresses: [{ip: 10.1.0.1}, {ip: 10.1.0.2, nodeName: node-1}]
        ports: [{name: http, port: 8080}]
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: cert, namespace: gw}
      type: kubernetes.io/tls
      stringData: {tls.crt: CERT, tls.key: KEY}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: local}
      spec:
        ports: [{port: 80}]
      """)
    assertNoDiagnostics(snapshot)

    XCTAssertEqual(snapshot.services.count, 2)
    let orders = snapshot.services.first { $0.name == "orders" }
    XCTAssertEqual(orders?.id, ResourceID(.service, namespace: "team", name: "orders", cluster: "east"))
    XCTAssertEqual(orders?.spec.selector, ["app": "orders"])
    XCTAssertEqual(orders?.spec.ports?.map(\.port), [80, 9090])
    XCTAssertEqual(orders?.spec.ports?.first?.targetPort, .number(8080))
    XCTAssertEqual(orders?.spec.ports?.last?.targetPort, .string("grpc"))

    // No clusterName: the registry kinds have no cluster in their id (the local cluster), and the
    // namespace defaults to Kubernetes' "default".
    let local = snapshot.services.first { $0.name == "local" }
    XCTAssertEqual(local?.id, ResourceID(.service, namespace: "default", name: "local"))
    XCTAssertNil(local?.id.cluster)

    XCTAssertEqual(snapshot.endpoints.count, 1)
    let endpoints = snapshot.endpoints.first
    XCTAssertEqual(endpoints?.id, ResourceID(.endpoints, namespace: "team", name: "orders", cluster: "east"))
    XCTAssertEqual(endpoints?.spec.first?.addresses?.map(\.ip), ["10.1.0.1", "10.1.0.2"])
    XCTAssertEqual(endpoints?.spec.first?.addresses?.last?.nodeName, "node-1")
    XCTAssertEqual(endpoints?.spec.first?.ports?.first?.port, 8080)

    XCTAssertEqual(snapshot.secrets.count, 1)
    // Secrets are not registry kinds: the id carries no cluster even when clusterName is absent or present.
    XCTAssertEqual(snapshot.secrets.first?.id, ResourceID(.secret, namespace: "gw", name: "cert"))
    XCTAssertEqual(snapshot.secrets.first?.spec.type, "kubernetes.io/tls")
  }

  func testWrongAPIVersionNamesTheAcceptedVersions() {
    let snapshot = load(
      """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: RouteTable
      metadata: {name: a, namespace: team}
      spec: {}
      ---
      apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
      kind: TrafficPolicy
      metadata: {name: b, namespace: team}
      spec: {}
      ---
      apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
      kind: StaticDestination
      metadata: {name: c, namespace: team}
      spec: {}
      ---
      apiVersion: apps/v1
      kind: Service
      metadata: {name: d, namespace: team}
      spec: {}
      """,
      file: "versions.yaml")
    let descriptions = snapshot.errors.map(\.description)
    XCTAssertEqual(
      descriptions,
      [
        "versions.yaml:1:1: apiVersion: RouteTable is not served by 'networking.mesh.gloo.solo.io/v1'; "
          + "use networking.enterprise.mesh.gloo.solo.io/v1beta1 or portico.dev/v1",
        "versions.yaml:6:1: apiVersion: TrafficPolicy is not served by "
          + "'networking.enterprise.mesh.gloo.solo.io/v1beta1'; use networking.mesh.gloo.solo.io/v1 or portico.dev/v1",
        "versions.yaml:11:1: apiVersion: StaticDestination is not served by "
          + "'networking.enterprise.mesh.gloo.solo.io/v1beta1'; use portico.dev/v1",
        "versions.yaml:16:1: apiVersion: Service is not served by 'apps/v1'; use v1",
      ])
    // None of them loads.
    XCTAssertTrue(snapshot.routeTables.isEmpty)
    XCTAssertTrue(snapshot.trafficPolicies.isEmpty)
    XCTAssertTrue(snapshot.staticDestinations.isEmpty)
    XCTAssertTrue(snapshot.services.isEmpty)
  }

  func testUnknownKindIsAnError() {
    let snapshot = load(
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: g}
      spec: {}
      """,
      file: "gateway.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "gateway.yaml:2:1: kind: unknown kind 'Gateway'; expected one of VirtualGateway, VirtualHost, "
          + "RouteTable, TrafficPolicy, StaticDestination, VirtualDestination, VirtualMesh, "
          + "RateLimitServerConfig, RateLimitClientConfig, AuthConfig, Service, Endpoints, Secret, ConfigMap"
      ])
    XCTAssertTrue(snapshot.warnings.isEmpty)
  }

  func testNotYetImplementedKindIsAWarning() {
    let snapshot = load(
      """
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: orders-abc, namespace: team}
      endpoints: []
      """,
      file: "slices.yaml")
    XCTAssertTrue(snapshot.errors.isEmpty, describe(snapshot.errors))
    XCTAssertEqual(
      snapshot.warnings.map(\.description),
      ["slices.yaml:2:1: kind: kind EndpointSlice is not implemented by Portico yet; ignored"])
  }

  func testNotYetImplementedKindUnderAnUnknownVersionIsAnError() {
    // EndpointSlice is only known under discovery.k8s.io/v1.
    let snapshot = load(
      """
      apiVersion: v1
      kind: EndpointSlice
      metadata: {name: orders-abc, namespace: team}
      """)
    expectDiagnostic(snapshot.errors, at: "kind", containing: "unknown kind 'EndpointSlice'")
    XCTAssertTrue(snapshot.warnings.isEmpty)
  }

  func testAuthConfigLoadsUnderBothGroupsOnly() {
    for group in ["enterprise.gloo.solo.io/v1", "portico.dev/v1"] {
      let snapshot = load(
        """
        apiVersion: \(group)
        kind: AuthConfig
        metadata: {name: basic, namespace: team}
        spec: {configs: [{basicAuth: {realm: test, apr: {users: {}}}}]}
        """)
      XCTAssertTrue(snapshot.errors.isEmpty, describe(snapshot.errors))
      XCTAssertEqual(snapshot.authConfigs.count, 1)
    }
    let wrongGroup = load("apiVersion: v1\nkind: AuthConfig\nmetadata: {name: basic, namespace: team}\n")
    expectDiagnostic(wrongGroup.errors, at: "apiVersion", containing: "AuthConfig")
  }

  func testMissingKindOrAPIVersion() {
    let missingKind = load("apiVersion: v1\nmetadata: {name: x}\n", file: "k.yaml")
    XCTAssertEqual(missingKind.errors.map(\.description), ["k.yaml:1:1: kind: missing required field 'kind'"])

    let missingVersion = load("kind: Service\nmetadata: {name: x}\n", file: "v.yaml")
    XCTAssertEqual(
      missingVersion.errors.map(\.description),
      ["v.yaml:1:1: apiVersion: missing required field 'apiVersion'"])
  }

  func testMissingMetadataNameIsAnError() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata:
        namespace: team
      spec: {}
      """,
      file: "noname.yaml")
    let error = expectDiagnostic(
      snapshot.errors, at: "metadata.name", containing: "missing required field 'name'")
    // Placed at the metadata mapping, which is where the field is missing.
    assertLocation(error, "noname.yaml", 4, 3)
    XCTAssertTrue(snapshot.routeTables.isEmpty)
  }
}
