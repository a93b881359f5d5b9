import XCTest

@testable import PorticoTranslate

/// The example of the resource model (a VirtualGateway on a TLS port, a VirtualHost delegating `/orders` by
/// ref and by selector, and a weighted table) expands to the documented route list.
final class WorkedExampleTests: XCTestCase {
  static let manifests = """
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: VirtualGateway
    metadata: {name: edge, namespace: gw-config}
    spec:
      ingressGatewaySelectors:
      - portName: https
        destinationSelectors:
        - kubeServiceMatcher:
            clusters: [east, west]
            namespaces: [gateways]
            labels: {role: edge-proxy}
      connectionHandlers:
      - connectionOptions:
          sslConfig: {secretName: store-cert, tlsMode: SIMPLE}
        http:
          routeConfig:
          - virtualHostSelector:
              namespaces: [store]
              labels: {exposed-on: edge}
    ---
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: VirtualHost
    metadata: {name: store, namespace: store, labels: {exposed-on: edge}}
    spec:
      domains: [store.example.net]
      options:
        trafficPolicy:
          requestTimeout: 20s
          retries: {attempts: 2, perTryTimeout: 8s}
      routes:
      - name: orders
        matchers: [{uri: {prefix: /orders}}]
        options:
          headerManipulation:
            appendRequestHeaders: {x-edge-area: orders}
        delegateAction:
          refs: [{name: orders-core, namespace: orders-team}]
          selector: {namespaces: [orders-team], labels: {area: orders}}
      - name: old-cart
        matchers: [{uri: {exact: /basket}}]
        redirectAction: {pathRedirect: /orders/cart, responseCode: PERMANENT_REDIRECT}
    ---
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: RouteTable
    metadata: {name: orders-core, namespace: orders-team, labels: {area: orders}}
    spec:
      weight: 5
      routes:
      - name: list
        matchers:
        - uri: {prefix: /list}
          method: GET
        options: {requestTimeout: 4s}
        routeAction:
          pathRewrite: /v3/orders
          destinations:
          - kubeService: {name: orders, namespace: orders, clusterName: east, subset: {track: stable}}
            weight: 9
          - virtualDestination: {name: orders-global, namespace: gw-config}
            weight: 1
      - name: ping
        matchers: [{uri: {exact: /ping}}]
        directResponseAction: {status: 204}
    ---
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: RouteTable
    metadata: {name: history, namespace: orders-team, labels: {area: orders}}
    spec:
      weight: 1
      routes:
      - name: history
        matchers: [{uri: {prefix: /history}}]
        directResponseAction: {status: 200, body: history}
    ---
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: RouteTable
    metadata: {name: archive, namespace: orders-team, labels: {area: orders}}
    spec:
      weight: 5
      routes:
      - name: archive
        matchers: [{uri: {prefix: /archive}}]
        directResponseAction: {status: 200, body: archive}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: orders, namespace: orders, clusterName: east}
    spec:
      ports: [{name: http, port: 8080}]
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: orders, namespace: orders, clusterName: east}
    subsets:
    - addresses: [{ip: 10.0.0.7}, {ip: 10.0.0.8}]
      ports: [{name: http, port: 8080}]
    ---
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: VirtualDestination
    metadata: {name: orders-global, namespace: gw-config}
    spec:
      hostname: orders.global
      port: {number: 8080}
      static:
        destinations:
        - kubeService: {name: orders, namespace: orders, clusterName: east}
    """

  let gateway = GatewayIdentity(
    name: "edge-proxy", namespace: "gateways", cluster: "east", labels: ["role": "edge-proxy"],
    ports: ["https": 8443])

  func translation() -> Translation {
    Translator().translate(ManifestLoader().load(text: Self.manifests, file: "example.yaml"), for: gateway)
  }

  func testExpandsToTheDocumentedList() {
    let routes = translation().routes(of: "store.example.net")
    XCTAssertEqual(
      routes.map(\.name), ["orders.list", "orders.ping", "orders.archive", "orders.history", "old-cart"])
    XCTAssertEqual(
      routes.map(\.summaries),
      [
        ["prefix /orders/list, method GET"], ["exact /orders/ping"], ["prefix /orders/archive"],
        ["prefix /orders/history"], ["exact /basket"],
      ])
    XCTAssertEqual(routes[1].directStatus, 204)
    guard case .redirect(let redirect) = routes[4].action else { return XCTFail("old-cart redirects") }
    XCTAssertEqual(redirect.responseCode?.status, 308)
    XCTAssertEqual(redirect.pathRedirect, "/orders/cart")
  }

  func testListSplitsToTheServiceAndRewritesTheCombinedPrefix() throws {
    let list = translation().routes(of: "store.example.net")[0]
    guard case .forward(let forward) = list.action else { return XCTFail("list forwards") }
    XCTAssertEqual(forward.pathRewrite, "/v3/orders")
    XCTAssertEqual(
      forward.destinations.map(\.upstream),
      ["kube:east/orders/orders:8080", "virtual:gw-config/orders-global"])
    XCTAssertEqual(forward.destinations.map(\.weight), [9, 1])
    XCTAssertEqual(list.matchers[0].path.literalLength, "/orders/list".utf8.count)
    let upstream = try XCTUnwrap(
      translation().config.upstreams.first { $0.id == "kube:east/orders/orders:8080" })
    XCTAssertEqual(upstream.endpoints.map(\.address), ["10.0.0.7", "10.0.0.8"])
  }

  func testOptionsAreInheritedFieldByFieldWithProvenance() throws {
    let list = translation().routes(of: "store.example.net")[0]
    XCTAssertEqual(list.options.values.requestTimeout?.text, "4s")
    XCTAssertEqual(list.options.origins["requestTimeout"]?.level, .route)
    XCTAssertEqual(list.options.origins["requestTimeout"]?.resource.name, "orders-core")
    XCTAssertEqual(list.options.values.retries?.attempts, 2)
    XCTAssertEqual(list.options.origins["retries"]?.level, .virtualHost)
    XCTAssertEqual(list.options.origins["retries"]?.resource.name, "store")
    XCTAssertEqual(
      list.options.headerManipulations.map(\.manipulation.appendRequestHeaders), [["x-edge-area": "orders"]])
    XCTAssertEqual(list.options.headerManipulations.first?.origin.level, .delegatingRoute)
    XCTAssertEqual(list.options.headerManipulations.first?.origin.route, "orders")
    let ping = translation().routes(of: "store.example.net")[1]
    XCTAssertEqual(ping.options.values.requestTimeout?.text, "20s")
  }

  func testStatusRecordsUsageAndWarnings() throws {
    let result = translation()
    let host = try XCTUnwrap(result.status(.virtualHost, "store", "store"))
    XCTAssertEqual(host.state, .accepted)
    XCTAssertEqual(host.usage.attachedVirtualGateways.map(\.name), ["edge"])
    XCTAssertEqual(host.usage.selectedRouteTables.map(\.name), ["archive", "history", "orders-core"])
    let core = try XCTUnwrap(result.status(.routeTable, "orders-team", "orders-core"))
    XCTAssertEqual(core.usage.selectedBy.map(\.name), ["store"])
    let warnings = core.warnings.map(\.message).joined(separator: "\n")
    XCTAssertTrue(warnings.contains("subset"), warnings)
    let gatewayStatus = try XCTUnwrap(result.status(.virtualGateway, "gw-config", "edge"))
    XCTAssertEqual(gatewayStatus.usage.selectedVirtualHosts.map(\.name), ["store"])
    XCTAssertEqual(result.config.listeners.map(\.portName), ["https"])
    XCTAssertEqual(result.config.listeners.first?.port, 8443)
  }

  func testAGatewayTheSelectorDoesNotPickGetsNothing() {
    var other = gateway
    other.cluster = "north"
    let result = Translator().translate(
      ManifestLoader().load(text: Self.manifests, file: "example.yaml"), for: other)
    XCTAssertTrue(result.config.listeners.isEmpty)
  }
}
