import XCTest

@testable import PorticoTranslate

/// VirtualDestinations resolve to one upstream over every cluster's endpoints, ranked for the gateway.
final class VirtualDestinationTests: XCTestCase {
  /// A Service `shop` in `cluster`, with one endpoint `address` in `region`/`zone`.
  private func registry(_ cluster: String, _ address: String, region: String, zone: String) -> String {
    """
    apiVersion: v1
    kind: Service
    metadata: {name: shop, namespace: apps, clusterName: \(cluster), labels: {app: shop}}
    spec: {ports: [{name: http, port: 8080}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata:
      name: shop
      namespace: apps
      clusterName: \(cluster)
      labels: {topology.kubernetes.io/region: \(region), topology.kubernetes.io/zone: \(zone)}
    subsets: [{addresses: [{ip: \(address)}], ports: [{name: http, port: 8080}]}]
    ---

    """
  }

  private func configuration(_ failover: String, mesh: String = "") -> String {
    registry("east", "10.0.1.1", region: "eu", zone: "a")
      + registry("east-b", "10.0.2.1", region: "eu", zone: "b")
      + registry("west", "10.0.3.1", region: "us", zone: "a")
      + registry("south", "10.0.4.1", region: "sa", zone: "a")
      + mesh
        + """
        apiVersion: portico.dev/v1
        kind: VirtualDestination
        metadata: {name: shop, namespace: apps}
        spec:
          hostname: shop.global
          port: {number: 8080}
        \(failover)
        ---

        """
      + host(
        "shop", domain: "shop.test",
        routes:
          "  - {matchers: [{uri: {prefix: /}}], routeAction: {destinations: [{virtualDestination: {name: shop}}]}}"
      )
  }

  private func priorities(_ translation: Translation) -> [String: Int] {
    let upstream = translation.config.upstreams.first { $0.id == "virtual:apps/shop" }
    return Dictionary(uniqueKeysWithValues: (upstream?.endpoints ?? []).map { ($0.address, $0.priority) })
  }

  private var eastGateway: GatewayIdentity {
    var gateway = testGateway
    gateway.locality = .init(region: "eu", zone: "a")
    return gateway
  }

  func testLocalizedRanksZoneThenRegionThenDirectivesThenTheRest() {
    let translation = translate(
      configuration(
        """
          localized:
            destinationSelectors: [{kubeServiceMatcher: {labels: {app: shop}, clusters: [east, east-b, west, south]}}]
            failoverDirectives:
            - from: {region: eu}
              to: [{region: sa}]
        """), for: eastGateway)
    XCTAssertEqual(translation.status(.virtualHost, "apps", "shop")?.errors, [])
    XCTAssertEqual(
      priorities(translation), ["10.0.1.1": 0, "10.0.2.1": 1, "10.0.4.1": 2, "10.0.3.1": 3],
      "own zone, own region, the directive's target, then the rest")
    let upstream = translation.config.upstreams.first { $0.id == "virtual:apps/shop" }
    XCTAssertEqual(upstream?.outlierDetection?.consecutiveErrors, 10, "Gloo's default")
    XCTAssertEqual(upstream?.outlierDetection?.maxEjectionPercent, 100)
  }

  func testStaticRanksByListOrder() {
    let translation = translate(
      configuration(
        """
          static:
            destinations:
            - kubeService: {name: shop, namespace: apps, clusterName: west}
            - kubeService: {name: shop, namespace: apps, clusterName: east}
        """), for: eastGateway)
    XCTAssertEqual(priorities(translation), ["10.0.3.1": 0, "10.0.1.1": 1])
  }

  func testOtherClustersAreReachedThroughTheirEastWestGatewayWithTheMeshIdentity() {
    let mesh = """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: VirtualMesh
      metadata: {name: mesh, namespace: apps}
      spec: {federation: {flatNetwork: false}}
      ---

      """
    let failover = """
        virtualMesh: {name: mesh}
        static:
          destinations:
          - kubeService: {name: shop, namespace: apps, clusterName: west}
      """
    let routed = translate(configuration(failover, mesh: mesh), for: eastGateway)
    let errors = routed.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertTrue(
      errors.contains { $0.contains("mesh identity Secret gateways/portico-mesh-identity") }, "\(errors)")
    XCTAssertEqual(
      routed.routes(of: "shop.test").first?.directStatus, 500, "fails closed: never in the clear")
    let flat = translate(
      configuration(
        failover, mesh: mesh.replacingOccurrences(of: "flatNetwork: false", with: "flatNetwork: true")),
      for: eastGateway)
    XCTAssertEqual(flat.status(.virtualHost, "apps", "shop")?.errors, [])
  }

  func testAMeshListingItsClustersExportsFromThoseOnly() {
    let mesh = """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: VirtualMesh
      metadata: {name: mesh, namespace: apps}
      spec:
        meshes: [{name: east}, {name: west}]
        federation: {flatNetwork: true}
      ---

      """
    let translation = translate(
      configuration(
        """
          virtualMesh: {name: mesh}
          localized:
            destinationSelectors: [{kubeServiceMatcher: {labels: {app: shop}, clusters: [east, east-b, west, south]}}]
        """, mesh: mesh), for: eastGateway)
    XCTAssertEqual(Set(priorities(translation).keys), ["10.0.1.1", "10.0.3.1"], "east and west only")
  }

  func testAMeshThatDoesNotExistIsAnError() {
    let translation = translate(
      configuration(
        """
          virtualMesh: {name: nowhere}
          static:
            destinations:
            - kubeService: {name: shop, namespace: apps, clusterName: west}
        """), for: eastGateway)
    let errors = translation.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertTrue(errors.contains { $0.contains("names a VirtualMesh that does not exist") }, "\(errors)")
  }

  func testAMissingVirtualDestinationIsAnError() {
    let translation = translate(
      host(
        "shop", domain: "shop.test",
        routes:
          "  - {matchers: [{uri: {prefix: /}}], routeAction: {destinations: [{virtualDestination: {name: nope}}]}}"
      ))
    let errors = translation.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertTrue(errors.contains { $0.contains("VirtualDestination apps/nope not found") }, "\(errors)")
  }

  func testFieldsPorticoDoesNotEnforceAreRefusedWhereTheyAre() {
    let loaded = snapshot(
      """
      apiVersion: portico.dev/v1
      kind: VirtualDestination
      metadata: {name: shop, namespace: apps}
      spec:
        hostname: shop.global
        port: {number: 8080}
        localized:
          destinationSelectors: [{kubeServiceMatcher: {labels: {app: shop}}}]
          outlierDetection: {interval: 5s}
      ---
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: VirtualMesh
      metadata: {name: mesh, namespace: apps}
      spec: {globalAccessPolicy: ENABLED}
      """)
    let messages = loaded.allDiagnostics.errors.map { "\($0.path): \($0.message)" }
    XCTAssertTrue(
      messages.contains { $0.hasPrefix("spec.localized.outlierDetection.interval") }, "\(messages)")
    XCTAssertTrue(messages.contains { $0.hasPrefix("spec.globalAccessPolicy") }, "\(messages)")
    let checked = Translator().check(loaded).diagnostics.errors.map(\.message)
    XCTAssertTrue(
      checked.contains { $0.contains("access policies are not enforced") },
      "validate reports them: \(checked)")
  }
}
