import XCTest

@testable import PorticoTranslate

final class GatewayTests: XCTestCase {
  func testDuplicateDomainsMakeTheLaterHostInvalid() throws {
    let manifests = [
      host("first", domain: "shop.test", routes: forward("a", "{uri: {prefix: /}}")),
      host("second", domain: "'*', Shop.Test", routes: forward("b", "{uri: {prefix: /}}")),
      host("third", domain: "'*'", routes: forward("c", "{uri: {prefix: /}}")),
    ]
    let result = translate(manifests.joined(separator: "\n---\n"))
    XCTAssertEqual(result.config.virtualHosts.map(\.name), ["apps/first", "apps/third"])
    let second = try XCTUnwrap(result.status(.virtualHost, "apps", "second"))
    XCTAssertEqual(second.state, .invalid)
    XCTAssertEqual(second.errors.map(\.path.description), ["spec.domains[1]"])
    XCTAssertTrue(second.errors[0].message.contains("already served by apps/first"))
    XCTAssertEqual(result.status(.virtualHost, "apps", "third")?.state, .accepted)
  }

  func testSelectionByLabelsNamespacesClustersAndRefs() {
    let gateways = """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: by-ref, namespace: gateways}
      spec:
        ingressGatewaySelectors:
        - portName: http
          destinationSelectors: [{kubeServiceRefs: {services: [{name: edge, namespace: gateways, clusterName: east}]}}]
        connectionHandlers: [{http: {routeConfig: [{virtualHost: {domains: [ref.test], routes: [{directResponseAction: {status: 200}}]}}]}}]
      ---
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: other-cluster, namespace: gateways}
      spec:
        ingressGatewaySelectors:
        - portName: http
          destinationSelectors: [{kubeServiceMatcher: {labels: {app: edge}, clusters: [west]}}]
        connectionHandlers: [{http: {routeConfig: [{virtualHost: {domains: [west.test], routes: [{directResponseAction: {status: 200}}]}}]}}]
      ---
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: missing-port, namespace: gateways}
      spec:
        ingressGatewaySelectors:
        - portName: grpc
          destinationSelectors: [{kubeServiceMatcher: {labels: {app: edge}}}]
        connectionHandlers: [{http: {routeConfig: [{virtualHost: {domains: [grpc.test], routes: [{directResponseAction: {status: 200}}]}}]}}]
      """
    let result = translate(gateways)
    let domains = result.config.virtualHosts.flatMap(\.domains)
    XCTAssertTrue(domains.contains("ref.test"))
    XCTAssertFalse(domains.contains("west.test"))
    XCTAssertFalse(domains.contains("grpc.test"))
    XCTAssertEqual(
      result.status(.virtualGateway, "gateways", "missing-port")?.warnings.map(\.message),
      ["gateway gateways/edge has no port named 'grpc'"])
    XCTAssertEqual(result.config.listeners.map(\.portName), ["http"])
    XCTAssertEqual(result.config.listeners[0].virtualGateways.map(\.name), ["by-ref", "edge"])
  }

  func testKubeServiceDestinationsResolveInTheirCluster() throws {
    let manifests = """
      apiVersion: v1
      kind: Service
      metadata: {name: api, namespace: apps}
      spec: {ports: [{name: http, port: 80}, {name: admin, port: 9000}]}
      ---
      apiVersion: v1
      kind: Endpoints
      metadata: {name: api, namespace: apps}
      subsets: [{addresses: [{ip: 10.1.0.1}], ports: [{name: http, port: 8080}, {name: admin, port: 9001}]}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: api, namespace: apps, clusterName: west}
      spec: {ports: [{port: 80}]}
      ---
      apiVersion: v1
      kind: Endpoints
      metadata: {name: api, namespace: apps, clusterName: west}
      subsets: [{addresses: [{ip: 10.2.0.1}, {ip: 10.2.0.2}], ports: [{port: 8080}]}]
      ---

      """
      + host(
        "shop", domain: "shop.test",
        routes: """
            - name: local
              matchers: [{uri: {prefix: /local}}]
              routeAction: {destinations: [{kubeService: {name: api, port: 80}}]}
            - name: remote
              matchers: [{uri: {prefix: /remote}}]
              routeAction: {destinations: [{kubeService: {name: api, clusterName: west}, weight: 3}, {kubeService: {name: api, port: 80}, weight: 1}]}
            - name: ambiguous
              matchers: [{uri: {prefix: /ambiguous}}]
              routeAction: {destinations: [{kubeService: {name: api}}]}
          """)
    let result = translate(manifests)
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes[0].upstreams, ["kube:east/apps/api:80"])
    XCTAssertEqual(routes[1].upstreams, ["kube:west/apps/api:80", "kube:east/apps/api:80"])
    XCTAssertEqual(routes[2].directStatus, 500)
    let local = try XCTUnwrap(result.config.upstreams.first { $0.id == "kube:east/apps/api:80" })
    XCTAssertEqual(
      local.endpoints, [.init(address: "10.1.0.1", port: 8080, locality: nil, labels: nil, cluster: "east")])
    let west = try XCTUnwrap(result.config.upstreams.first { $0.id == "kube:west/apps/api:80" })
    XCTAssertEqual(west.endpoints.map(\.address), ["10.2.0.1", "10.2.0.2"])
    XCTAssertEqual(
      result.status(.virtualHost, "apps", "shop")?.errors.map(\.message),
      ["Service east/apps/api has several ports; give port"])
  }

  func testShadowedRoutesAreReported() throws {
    let result = translate(
      host(
        "shop", domain: "shop.test",
        routes: [
          forward("api", "{uri: {prefix: /api}}"),
          forward("users", "{uri: {exact: /api/users}}"),
          forward("conditional", "{uri: {prefix: /web}, method: GET}"),
          forward("web", "{uri: {prefix: /web/x}}"),
        ].joined(separator: "\n")))
    let warnings = try XCTUnwrap(result.status(.virtualHost, "apps", "shop")).warnings
    XCTAssertEqual(warnings.map(\.path.description), ["spec.routes[1]"])
    XCTAssertTrue(warnings[0].message.contains("shadowed"))
  }

  func testStatusesExistForEveryResource() {
    let result = translate(host("unused", domain: "x.test", routes: forward("a", "{uri: {prefix: /}}")))
    let kinds = Set(result.statuses.map(\.resource.kind))
    XCTAssertEqual(kinds, [.virtualGateway, .virtualHost, .staticDestination])
  }
}

final class FolderCheckTests: XCTestCase {
  func testUnusedHostsAndTablesAreWarnedAndStillChecked() {
    let text = """
      apiVersion: portico.dev/v1
      kind: VirtualHost
      metadata: {name: lonely, namespace: apps}
      spec:
        domains: [lonely.test]
        routes:
        - {matchers: [{uri: {regex: '(?<=x)'}}], directResponseAction: {status: 200}}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: orphan, namespace: apps}
      spec:
        routes: [{directResponseAction: {status: 200}}]
      """
    let check = Translator().check(ManifestLoader().load(text: text, file: "f.yaml"))
    XCTAssertEqual(
      check.diagnostics.map { "\($0.severity.rawValue) \($0.location!.line): \($0.message)" },
      [
        "warning 3: no VirtualGateway serves this virtual host",
        "error 7: invalid perl operator: (?< in regex '(?<=x)' (RE2 syntax: no backreferences or lookaround)",
        "warning 11: no route delegates to this route table",
      ])
    XCTAssertEqual(check.unattachedHosts.map(\.name), ["apps/lonely"])
  }
}
