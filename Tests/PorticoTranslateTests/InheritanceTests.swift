import XCTest

@testable import PorticoTranslate

/// Per-field option inheritance with provenance: route > delegating routes > virtual host > TrafficPolicy
/// (older first) > VirtualGateway route options.
final class InheritanceTests: XCTestCase {
  let manifests = [
    host(
      "shop", domain: "shop.test",
      options: """
          options:
            trafficPolicy:
              requestTimeout: 20s
              retries: {attempts: 3, perTryTimeout: 2s}
              corsPolicy: {allowOrigins: [{exact: 'https://shop.test'}]}
              trafficShift: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
        """,
      routes: """
          - name: outer
            matchers: [{uri: {prefix: /a}}]
            options:
              requestTimeout: 10s
              faultInjection: {abort: {httpStatus: 503}, percentage: 1}
            delegateAction: {refs: [{name: middle}]}
          - name: plain
            matchers: [{uri: {prefix: /}}]
            directResponseAction: {status: 200}
        """),
    table(
      "middle",
      routes: """
          - name: inner
            matchers: [{uri: {prefix: /b}}]
            options:
              retries: {attempts: 1}
              trafficShift: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
            delegateAction: {refs: [{name: leaf}]}
        """),
    table(
      "leaf",
      routes: """
          - name: deep
            matchers: [{uri: {prefix: /c}}]
            options: {requestTimeout: 1s}
            directResponseAction: {status: 200}
          - name: default
            matchers: [{uri: {prefix: /d}}]
            directResponseAction: {status: 200}
        """),
  ]

  func routes() -> [RouteConfig] { translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test") }

  func testEachFieldComesFromItsClosestDefinition() throws {
    let deep = try XCTUnwrap(routes().first { $0.name == "outer.inner.deep" })
    XCTAssertEqual(deep.options.values.requestTimeout?.text, "1s")
    XCTAssertEqual(deep.options.origins["requestTimeout"]?.level, .route)
    XCTAssertEqual(deep.options.origins["requestTimeout"]?.resource.name, "leaf")
    XCTAssertEqual(deep.options.values.retries?.attempts, 1)
    XCTAssertEqual(deep.options.origins["retries"]?.level, .delegatingRoute)
    XCTAssertEqual(deep.options.origins["retries"]?.route, "outer.inner")
    XCTAssertEqual(deep.options.values.faultInjection?.abort?.httpStatus, 503)
    XCTAssertEqual(deep.options.origins["faultInjection"]?.route, "outer")
    XCTAssertEqual(deep.options.origins["corsPolicy"]?.level, .virtualHost)
    XCTAssertNotNil(deep.options.origins["corsPolicy"]?.location)
  }

  func testOverridingOneFieldKeepsTheOthers() throws {
    let standard = try XCTUnwrap(routes().first { $0.name == "outer.inner.default" })
    XCTAssertEqual(standard.options.values.requestTimeout?.text, "10s")
    XCTAssertEqual(standard.options.origins["requestTimeout"]?.route, "outer")
    XCTAssertEqual(standard.options.values.retries?.attempts, 1)
    XCTAssertNil(standard.options.values.retries?.perTryTimeout, "a field is replaced whole, not merged")
    let plain = try XCTUnwrap(routes().first { $0.name == "plain" })
    XCTAssertEqual(plain.options.values.requestTimeout?.text, "20s")
    XCTAssertEqual(plain.options.values.retries?.attempts, 3)
    XCTAssertNil(plain.options.values.faultInjection)
  }

  func testHeaderManipulationStacksFromTheHostDownToTheRoute() throws {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        options: "  options: {trafficPolicy: {headerManipulation: {appendResponseHeaders: {x-host: shop}}}}",
        routes: """
            - name: outer
              matchers: [{uri: {prefix: /a}}]
              options: {headerManipulation: {appendRequestHeaders: {x-outer: "1"}}}
              delegateAction: {refs: [{name: leaf}]}
          """),
      table(
        "leaf",
        routes: """
            - name: inner
              options: {headerManipulation: {removeRequestHeaders: [cookie]}}
              directResponseAction: {status: 200}
          """),
    ]
    let route = try XCTUnwrap(translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test").first)
    XCTAssertEqual(
      route.options.headerManipulations.map(\.origin.level), [.virtualHost, .delegatingRoute, .route])
    XCTAssertEqual(
      route.options.headerManipulations[0].manipulation.appendResponseHeaders, ["x-host": "shop"])
    XCTAssertEqual(route.options.headerManipulations[2].manipulation.removeRequestHeaders, ["cookie"])
    XCTAssertNil(route.options.values.headerManipulation)
  }

  func testHostOnlyFieldsIgnoreRouteLevelValues() throws {
    let deep = try XCTUnwrap(routes().first { $0.name == "outer.inner.deep" })
    XCTAssertEqual(deep.options.origins["trafficShift"]?.level, .virtualHost)
    let warnings =
      translate(manifests.joined(separator: "\n---\n")).status(.routeTable, "apps", "middle")?.warnings ?? []
    XCTAssertTrue(warnings.contains { $0.path.description == "spec.routes[0].options.trafficShift" })
  }

  func testTrafficPoliciesSitBelowInlineOptionsAndTheOlderWins() throws {
    let policies = """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: newer, namespace: apps, creationTimestamp: "2026-02-01T00:00:00Z"}
      spec:
        routeSelector: [{virtualHostRefs: [{name: shop}]}]
        policy:
          requestTimeout: 99s
          mirror: {staticDestination: {name: backend}, percentage: 5}
          csrf: {filterEnabled: true}
      ---
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: older, namespace: apps, creationTimestamp: "2026-01-01T00:00:00Z"}
      spec:
        routeSelector: [{routeTableRefs: [{name: leaf}], routeLabelMatcher: {}}]
        policy:
          mirror: {staticDestination: {name: backend}, percentage: 50}
      ---
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: labelled, namespace: apps}
      spec:
        routeSelector: [{routeLabelMatcher: {tier: gold}}]
        policy: {outlierDetection: {consecutiveErrors: 3}}
      """
    let result = translate((manifests + [policies]).joined(separator: "\n---\n"))
    let routes = result.routes(of: "shop.test")
    let deep = try XCTUnwrap(routes.first { $0.name == "outer.inner.deep" })
    XCTAssertEqual(deep.options.values.requestTimeout?.text, "1s", "inline beats TrafficPolicy")
    XCTAssertEqual(deep.options.values.mirror?.percentage, 50, "the older TrafficPolicy wins a field")
    XCTAssertEqual(deep.options.origins["mirror"]?.resource.name, "older")
    XCTAssertEqual(deep.options.origins["mirror"]?.level, .trafficPolicy)
    XCTAssertEqual(deep.options.origins["csrf"]?.resource.name, "newer")
    XCTAssertNil(deep.options.values.outlierDetection, "no route carries tier: gold")
    let plain = try XCTUnwrap(routes.first { $0.name == "plain" })
    XCTAssertEqual(
      plain.options.values.mirror?.percentage, 5, "the older policy selects only the leaf table's routes")
    XCTAssertEqual(plain.options.values.requestTimeout?.text, "20s")
    let newer = try XCTUnwrap(result.status(.trafficPolicy, "apps", "newer"))
    XCTAssertEqual(
      newer.usage.gatewayRoutes["apps/shop"]?.sorted(), ["outer.inner.deep", "outer.inner.default", "plain"])
    XCTAssertEqual(
      result.status(.trafficPolicy, "apps", "older")?.usage.gatewayRoutes["apps/shop"]?.sorted(),
      ["outer.inner.deep", "outer.inner.default"])
    XCTAssertEqual(
      result.status(.routeTable, "apps", "leaf")?.usage.appliedTrafficPolicies.map(\.name),
      ["newer", "older"])
  }

  func testVirtualGatewayRouteOptionsAreTheLowestLayer() throws {
    let gateway = """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: csrf-gw, namespace: gateways}
      spec:
        ingressGatewaySelectors: [{portName: admin, destinationSelectors: [{kubeServiceMatcher: {labels: {app: edge}, namespaces: [gateways]}}]}]
        connectionHandlers:
        - http:
            routeOptions: {csrf: {shadowEnabled: true}}
            routeConfig: [{virtualHost: {domains: [inline.test], routes: [{name: r, directResponseAction: {status: 204}}]}}]
      """
    var identity = testGateway
    identity.ports["admin"] = 9000
    let result = translate(gateway, for: identity)
    let route = try XCTUnwrap(result.routes(of: "inline.test").first)
    XCTAssertEqual(route.options.values.csrf?.shadowEnabled, true)
    XCTAssertEqual(route.options.origins["csrf"]?.level, .virtualGateway)
    XCTAssertEqual(route.summaries, ["prefix /"])
  }
}
