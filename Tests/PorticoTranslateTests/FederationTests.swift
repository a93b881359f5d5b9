import PorticoAPI
import XCTest

@testable import PorticoTranslate

/// A VirtualMesh's federation: the other cluster's Services it federates are reached through that cluster's
/// east-west gateway by their federated name; those it does not federate cannot be reached; without a mesh
/// joining the clusters, endpoints are reached directly.
final class FederationTests: XCTestCase {
  /// Services `shop` and `cart` in cluster west (endpoints 10.0.3.1 and 10.0.3.2) and west's east-west
  /// gateway at 192.0.2.7:15443; the gateway's mesh identity; a route on `shop.test` to west's `service`.
  private func configuration(mesh: String, service: String = "shop") -> String {
    """
    apiVersion: v1
    kind: Service
    metadata: {name: shop, namespace: apps, clusterName: west, labels: {federate: "yes"}}
    spec: {ports: [{name: http, port: 8080}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: shop, namespace: apps, clusterName: west}
    subsets: [{addresses: [{ip: 10.0.3.1}], ports: [{name: http, port: 8080}]}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: cart, namespace: apps, clusterName: west}
    spec: {ports: [{name: http, port: 8080}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: cart, namespace: apps, clusterName: west}
    subsets: [{addresses: [{ip: 10.0.3.2}], ports: [{name: http, port: 8080}]}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: east-west, namespace: portico-system, clusterName: west, labels: {role: east-west}}
    spec: {ports: [{name: tls, port: 15443}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: east-west, namespace: portico-system, clusterName: west}
    subsets: [{addresses: [{ip: 192.0.2.7}], ports: [{name: tls, port: 15443}]}]
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: portico-mesh-identity, namespace: gateways}
    type: kubernetes.io/tls
    stringData: {tls.crt: x, tls.key: x, ca.crt: x}
    ---

    """ + mesh
      + host(
        "shop", domain: "shop.test",
        routes: """
            - matchers: [{uri: {prefix: /}}]
              routeAction: {destinations: [{kubeService: {name: \(service), namespace: apps, clusterName: west}}]}
          """)
  }

  private func mesh(federation: String, meshes: String = "") -> String {
    """
    apiVersion: networking.mesh.gloo.solo.io/v1
    kind: VirtualMesh
    metadata: {name: mesh, namespace: portico-system}
    spec:
    \(meshes)
      federation:
        ingressGatewaySelectors:
        - destinationSelectors: [{kubeServiceMatcher: {labels: {role: east-west}}}]
    \(federation)
    ---

    """
  }

  private func upstream(_ translation: Translation, _ service: String = "shop") -> Upstream? {
    translation.config.upstreams.first { $0.id == "kube:west/apps/\(service):8080" }
  }

  func testAFederatedServiceIsReachedThroughItsClustersEastWestGateway() throws {
    let translation = translate(
      configuration(
        mesh: mesh(
          federation:
            "    selectors: [{destinationSelectors: [{kubeServiceMatcher: {labels: {federate: \"yes\"}}}]}]"))
    )
    XCTAssertEqual(translation.status(.virtualHost, "apps", "shop")?.errors, [])
    let endpoint = try XCTUnwrap(upstream(translation)?.endpoints.first)
    XCTAssertEqual(upstream(translation)?.endpoints.count, 1, "the east-west gateway, never the pod")
    XCTAssertEqual("\(endpoint.address):\(endpoint.port)", "192.0.2.7:15443")
    XCTAssertEqual(endpoint.meshServerName, "8080.shop.apps.svc.west.global")
    XCTAssertNotNil(upstream(translation)?.meshIdentity, "over mutual TLS with the mesh identity")
  }

  func testTheMeshsHostnameSuffixNamesTheServiceOnBothSides() throws {
    let federation = """
          selectors: [{}]
          hostnameSuffix: mesh.internal
      """
    let translation = translate(configuration(mesh: mesh(federation: federation)))
    XCTAssertEqual(
      upstream(translation)?.endpoints.first?.meshServerName, "8080.shop.apps.svc.west.mesh.internal")

    // West's east-west listener accepts the name with the mesh's suffix (and `global`).
    var west = testGateway
    west.cluster = "west"
    west.eastWestPort = 15443
    west.ports[EastWestGateway.portName] = 15443
    let served = translate(configuration(mesh: mesh(federation: federation)), for: west)
    let names = served.config.listeners.flatMap(\.serverNameChains).flatMap(\.serverNames)
    XCTAssertTrue(names.contains("8080.shop.apps.svc.west.mesh.internal"), "\(names)")
    XCTAssertTrue(names.contains("8080.shop.apps.svc.west.global"), "\(names)")
  }

  func testAServiceTheMeshDoesNotFederateCannotBeReached() {
    let translation = translate(
      configuration(
        mesh: mesh(
          federation:
            "    selectors: [{destinationSelectors: [{kubeServiceMatcher: {labels: {federate: \"yes\"}}}]}]"),
        service: "cart"))
    let errors = translation.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertTrue(
      errors.contains { $0.contains("no federation.selectors federates it") }, "\(errors)")
    XCTAssertEqual(
      translation.routes(of: "shop.test").first?.directStatus, 500, "replaced, never in the clear")
  }

  func testWithoutSelectorsNothingIsFederated() {
    let translation = translate(configuration(mesh: mesh(federation: "")))
    let errors = translation.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertTrue(errors.contains { $0.contains("no federation.selectors federates it") }, "\(errors)")
  }

  func testASelectorNamingOtherMeshesDoesNotFederateToThisOne() {
    let translation = translate(
      configuration(mesh: mesh(federation: "    selectors: [{meshes: [{name: south}]}]")))
    let errors = translation.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertTrue(errors.contains { $0.contains("no federation.selectors federates it") }, "\(errors)")
  }

  func testOnAFlatNetworkOrWithoutAMeshEndpointsAreReachedDirectly() {
    let flat = translate(
      configuration(mesh: mesh(federation: "    selectors: [{}]\n    flatNetwork: true")))
    XCTAssertEqual(upstream(flat)?.endpoints.map(\.address), ["10.0.3.1"])
    XCTAssertNil(upstream(flat)?.endpoints.first?.meshServerName)
    let unmeshed = translate(configuration(mesh: ""))
    XCTAssertEqual(upstream(unmeshed)?.endpoints.map(\.address), ["10.0.3.1"])
    // A mesh that joins other clusters only leaves these two unmeshed.
    let elsewhere = translate(
      configuration(mesh: mesh(federation: "", meshes: "  meshes: [{name: north}, {name: south}]")))
    XCTAssertEqual(upstream(elsewhere)?.endpoints.map(\.address), ["10.0.3.1"])
  }

  func testAHostnameSuffixMustBeADNSSuffix() {
    let loaded = snapshot(configuration(mesh: mesh(federation: "    hostnameSuffix: Not_DNS")))
    let errors = loaded.allDiagnostics.filter(\.isError).map(\.description)
    XCTAssertTrue(
      errors.contains { $0.contains("spec.federation.hostnameSuffix") && $0.contains("not a DNS suffix") },
      "\(errors)")
  }
}
