import XCTest

@testable import PorticoTranslate

/// Broken routes are replaced in place and never let their requests fall through (binding decision §11.4).
final class InvalidRouteTests: XCTestCase {
  let parent = host(
    "shop", domain: "shop.test",
    routes: [
      delegate("team", "{uri: {prefix: /team}}", "{refs: [{name: team}]}"),
      forward("catch-all", "{uri: {prefix: /}}"),
    ].joined(separator: "\n"))

  func testABadRegexIsReplacedOverTheParentScopeAndSiblingsKeepWorking() throws {
    let child = table(
      "team",
      routes: [
        forward("good", "{uri: {prefix: /good}}"),
        forward("bad", "{uri: {regex: '/(?=x)'}}"),
        forward("after", "{uri: {prefix: /after}}"),
      ].joined(separator: "\n"))
    let text = [parent, child].joined(separator: "\n---\n")
    let result = translate(text)
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.name), ["team.good", "team.bad", "team.after", "catch-all"])
    XCTAssertEqual(routes[0].upstreams, ["static:apps/backend"])
    XCTAssertEqual(
      routes[1].summaries, ["prefix /team"], "the replacement covers the delegating parent's scope")
    XCTAssertEqual(routes[1].directStatus, 500)
    guard case .directResponse(_, let body) = routes[1].action else { return XCTFail() }
    XCTAssertEqual(body, "invalid route configuration")
    XCTAssertEqual(
      routes[1].replacement?.errors.first?.path.description, "spec.routes[1].matchers[0].uri.regex")
    XCTAssertEqual(routes[3].upstreams, ["static:apps/backend"])
    let tableStatus = try XCTUnwrap(result.status(.routeTable, "apps", "team"))
    XCTAssertEqual(tableStatus.state, .invalid)
    XCTAssertEqual(tableStatus.errors.first?.location?.line, line(containing: "(?=x)", in: text))
    let hostStatus = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    XCTAssertEqual(hostStatus.state, .accepted)
    XCTAssertEqual(hostStatus.delegatedErrors.count, 1, "child errors are echoed on the host")
  }

  func testARouteWithAUsableMatcherIsReplacedOverItsOwnMatcher() {
    let child = table(
      "team",
      routes: [
        forward("good", "{uri: {prefix: /good}}"),
        """
          - name: missing-destination
            matchers: [{uri: {prefix: /gone}}]
            routeAction: {destinations: [{staticDestination: {name: nowhere}}]}
        """,
      ].joined(separator: "\n"))
    let routes = translate([parent, child].joined(separator: "\n---\n")).routes(of: "shop.test")
    XCTAssertEqual(routes[1].summaries, ["prefix /team/gone"])
    XCTAssertEqual(routes[1].directStatus, 500)
    XCTAssertEqual(routes[1].replacement?.errors.first?.message, "StaticDestination apps/nowhere not found")
  }

  func testATableThatFailsToDecodeIsReplacedWhole() throws {
    let child = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: team, namespace: apps}
      spec:
        weight: heavy
        routes: []
      """
    let result = translate([parent, child].joined(separator: "\n---\n"))
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.summaries), [["prefix /team"], ["prefix /"]])
    XCTAssertEqual(routes[0].directStatus, 500)
    XCTAssertEqual(result.status(.routeTable, "apps", "team")?.state, .invalid)
  }

  func testARouteThatFailsToDecodeIsIsolated() {
    let child = table(
      "team",
      routes: [
        forward("good", "{uri: {prefix: /good}}"),
        """
          - name: typo
            matchers: [{uri: {prefix: /x}}]
            directResponseAction: {status: lots}
        """,
      ].joined(separator: "\n"))
    let routes = translate([parent, child].joined(separator: "\n---\n")).routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.summaries), [["prefix /team/good"], ["prefix /team"], ["prefix /"]])
    XCTAssertEqual(routes.map(\.directStatus), [nil, 500, nil])
  }

  func testAnUnknownFieldInARouteInvalidatesOnlyThatRoute() {
    let child = table(
      "team",
      routes: [
        forward("good", "{uri: {prefix: /good}}"),
        """
          - name: unknown
            matchers: [{uri: {prefix: /u}}]
            directResponseAction: {status: 200, bodee: oops}
        """,
      ].joined(separator: "\n"))
    let text = [parent, child].joined(separator: "\n---\n")
    let result = translate(text)
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.summaries), [["prefix /team/good"], ["prefix /team/u"], ["prefix /"]])
    XCTAssertEqual(routes[1].directStatus, 500)
    let error = result.status(.routeTable, "apps", "team")?.errors.first
    XCTAssertEqual(error?.path.description, "spec.routes[1].directResponseAction.bodee")
    XCTAssertEqual(error?.location?.line, line(containing: "bodee", in: text))
  }

  func policy(_ text: String) -> [RouteConfig] {
    let parentWithPolicy = host(
      "shop", domain: "shop.test", options: "  options: {invalidRoutePolicy: \(text)}",
      routes: [
        delegate("team", "{uri: {prefix: /team}}", "{refs: [{name: team}]}"),
        forward("catch-all", "{uri: {prefix: /}}"),
      ].joined(separator: "\n"))
    let child = table("team", routes: forward("bad", "{uri: {regex: '(a)\\1'}}"))
    return translate([parentWithPolicy, child].joined(separator: "\n---\n")).routes(of: "shop.test")
  }

  func testDropRemovesTheRoute() {
    XCTAssertEqual(policy("{drop: {}}").map(\.name), ["catch-all"])
  }

  func testDirectResponseAnswersAsConfigured() throws {
    let routes = policy("{directResponse: {status: 404, body: No valid route configured}}")
    XCTAssertEqual(routes.map(\.directStatus), [404, nil])
  }

  func testRejectVirtualHostServesNothing() {
    XCTAssertTrue(policy("{rejectVirtualHost: {}}").isEmpty)
  }
}
