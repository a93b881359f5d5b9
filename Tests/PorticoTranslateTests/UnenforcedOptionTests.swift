import PorticoAPI
import XCTest

@testable import PorticoTranslate

/// Options Portico reads but does not enforce yet fail closed: an error on the field that sets them, and
/// every route they reach answers as an invalid route instead of being served without them (spec §11.9).
final class UnenforcedOptionTests: XCTestCase {
  /// One route with `options` and a sibling without; returns the translation.
  private func routeWith(_ options: String) -> Translation {
    translate(hostWith(options))
  }

  private func hostWith(_ options: String) -> String {
    host(
      "shop", domain: "shop.test",
      routes: """
          - name: guarded
            matchers: [{uri: {prefix: /guarded}}]
            options: \(options)
            routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
        \(forward("open", "{uri: {prefix: /}}"))
        """)
  }

  private func assertFailsClosed(
    _ options: String, field: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let result = routeWith(options)
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.name), ["guarded", "open"], file: file, line: line)
    XCTAssertEqual(routes[0].directStatus, 500, "the route is replaced, not served", file: file, line: line)
    XCTAssertNotNil(routes[0].replacement, file: file, line: line)
    XCTAssertEqual(
      routes[1].upstreams, ["static:apps/backend"], "siblings keep working", file: file, line: line)
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"), file: file, line: line)
    let error = try XCTUnwrap(status.errors.first, file: file, line: line)
    XCTAssertEqual(error.path.description, "spec.routes[0].options.\(field)", file: file, line: line)
    XCTAssertTrue(error.message.contains("not enforced"), error.message, file: file, line: line)
    XCTAssertNotNil(error.location?.line, file: file, line: line)
    let check = Translator().check(snapshot(hostWith(options)))
    XCTAssertTrue(
      check.diagnostics.errors.contains { $0.path.description.hasSuffix("options.\(field)") },
      "validate reports it", file: file, line: line)
  }

  func testTransformations() throws {
    try assertFailsClosed(
      "{transformations: {request: [{transformation: {injaTemplateTransformation: {body: {text: x}}}}]}}",
      field: "transformations")
    try assertFailsClosed(
      "{transformations: {request: [{recalculateRoutingDestination: true, transformation: "
        + "{xsltTransformation: {xslt: '<xsl:stylesheet version=\"1.0\" "
        + "xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"/>'}}}]}}",
      field: "transformations")
  }

  func testMTLS() throws {
    try assertFailsClosed("{mtls: {istio: {tlsMode: ISTIO_MUTUAL}}}", field: "mtls")
  }

  func testH2UpgradePolicy() throws {
    try assertFailsClosed(
      "{connectionPoolSettings: {http: {h2UpgradePolicy: UPGRADE}}}",
      field: "connectionPoolSettings.http.h2UpgradePolicy")
  }

  func testUseClientProtocol() throws {
    try assertFailsClosed(
      "{connectionPoolSettings: {http: {useClientProtocol: true}}}",
      field: "connectionPoolSettings.http.useClientProtocol")
  }

  func testTCPKeepalive() throws {
    try assertFailsClosed(
      "{connectionPoolSettings: {tcp: {tcpKeepalive: {time: 10s}}}}",
      field: "connectionPoolSettings.tcp.tcpKeepalive")
  }

  /// `outlierDetection` is a host-level option: its `interval` fails the host's routes, and on a route it is
  /// only warned about (and ignored), as before.
  func testOutlierDetectionInterval() throws {
    let result = translate(
      host(
        "shop", domain: "shop.test",
        options: "  options: {trafficPolicy: {outlierDetection: {consecutiveErrors: 3, interval: 10s}}}",
        routes: forward("all", "{uri: {prefix: /}}")))
    XCTAssertEqual(result.routes(of: "shop.test").first?.directStatus, 500)
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    XCTAssertEqual(
      status.errors.map(\.path.description), ["spec.options.trafficPolicy.outlierDetection.interval"])
    let onARoute = routeWith("{outlierDetection: {interval: 10s}}").routes(of: "shop.test")
    XCTAssertNil(onARoute[0].replacement)
  }

  func testDisabledExtauthIsServed() {
    let routes = routeWith("{extauth: {disable: true}}").routes(of: "shop.test")
    XCTAssertNil(routes[0].replacement)
    XCTAssertEqual(routes[0].upstreams, ["static:apps/backend"])
  }

  /// Set on the virtual host, it reaches every route, and the error is on the host's field; a route that
  /// disables it is served.
  func testInheritedFromTheHostReachesEveryRouteUnlessDisabled() throws {
    let result = translate(
      host(
        "shop", domain: "shop.test",
        options: "  options: {trafficPolicy: {extauth: {customAuth: {}}}}",
        routes: """
            - name: public
              matchers: [{uri: {prefix: /public}}]
              options: {extauth: {disable: true}}
              routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
          \(forward("rest", "{uri: {prefix: /}}"))
          """))
    let routes = result.routes(of: "shop.test")
    XCTAssertNil(routes[0].replacement)
    XCTAssertEqual(routes[1].directStatus, 500)
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    // A server of the user's with no extauthzRef to name it: refused where it is set.
    XCTAssertEqual(status.errors.map(\.path.description), ["extauth.customAuth"])
    XCTAssertTrue(status.errors[0].message.contains("extauthzRef"), "\(status.errors)")
  }

  /// A delegating route's option reaches its children; the error is on the delegating route.
  func testInheritedThroughDelegation() throws {
    let parent = host(
      "shop", domain: "shop.test",
      routes: """
          - name: team
            matchers: [{uri: {prefix: /team}}]
            options: {transformations: {request: [{transformation: {injaTemplateTransformation: {}}}]}}
            delegateAction: {refs: [{name: team}]}
        """)
    let child = table("team", routes: forward("a", "{uri: {prefix: /a}}"))
    let result = translate([parent, child].joined(separator: "\n---\n"))
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.summaries), [["prefix /team/a"]])
    XCTAssertEqual(routes[0].directStatus, 500)
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    XCTAssertEqual(status.errors.map(\.path.description), ["spec.routes[0].options.transformations"])
  }

  /// A TrafficPolicy that sets it reaches the routes it selects.
  func testFromATrafficPolicy() throws {
    let policy = """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: auth, namespace: apps}
      spec:
        routeSelector: [{routeLabelMatcher: {secure: "yes"}}]
        policy: {transformations: {response: [{transformation: {injaTemplateTransformation: {}}}]}}
      """
    let result = translate(
      [
        host(
          "shop", domain: "shop.test",
          routes: """
              - name: secure
                labels: {secure: "yes"}
                matchers: [{uri: {prefix: /secure}}]
                routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
            \(forward("rest", "{uri: {prefix: /}}"))
            """),
        policy,
      ].joined(separator: "\n---\n"))
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes[0].directStatus, 500)
    XCTAssertNil(routes[1].replacement)
    let status = try XCTUnwrap(result.status(.trafficPolicy, "apps", "auth"))
    XCTAssertEqual(status.errors.map(\.path.description), ["spec.policy.transformations"])
  }

  /// A TrafficPolicy with errors is not dropped quietly: the routes it selects are not served without it.
  func testATrafficPolicyWithErrorsFailsTheRoutesItSelects() {
    let policy = """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: broken, namespace: apps}
      spec:
        routeSelector: [{routeLabelMatcher: {secure: "yes"}}]
        policy: {csrf: {filterEnabled: true, percentage: 400}}
      """
    let result = translate(
      [
        host(
          "shop", domain: "shop.test",
          routes: """
              - name: secure
                labels: {secure: "yes"}
                matchers: [{uri: {prefix: /secure}}]
                routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
            \(forward("rest", "{uri: {prefix: /}}"))
            """),
        policy,
      ].joined(separator: "\n---\n"))
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes[0].directStatus, 500)
    XCTAssertTrue(
      routes[0].replacement?.errors.contains { $0.message.contains("TrafficPolicy has errors") } ?? false)
    XCTAssertNil(routes[1].replacement)
  }
}
