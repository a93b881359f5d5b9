import Foundation
import XCTest

@testable import PorticoProxy

/// Options set on a virtual host reach the routes a RouteTable adds below a delegating route; the
/// delegating route overrides one field, a child route another, and each field keeps the closest value.
final class PolicyInheritanceTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "inherit.test",
          options: """
              options:
                trafficPolicy:
                  requestTimeout: 150ms
                  retries: {attempts: 2}
                  faultInjection: {abort: {httpStatus: 418}, percentage: 0}
                  corsPolicy: {allowOrigins: [{exact: "https://host.example"}]}
            """,
          routes: """
              - matchers: [{uri: {prefix: /team}}]
                options: {requestTimeout: 2s}
                delegateAction: {refs: [{name: team, namespace: apps}]}
            """)
          + """
          apiVersion: portico.dev/v1
          kind: RouteTable
          metadata: {name: team, namespace: apps}
          spec:
            # Paths are joined to the delegating route's /team, and rewritten to what follows it.
            routes:
            - matchers: [{uri: {prefix: /no-retries}}]
              options: {retries: {attempts: 0}}
              routeAction: {pathRewrite: /, destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /own-cors}}]
              options: {corsPolicy: {allowOrigins: [{exact: "https://team.example"}]}, requestTimeout: 100ms}
              routeAction: {pathRewrite: /, destinations: [{staticDestination: {name: echo}}]}
            - routeAction: {pathRewrite: /, destinations: [{staticDestination: {name: echo}}]}
          ---

          """
    }
  }

  override func tearDown() async throws { await gateway.stop() }

  /// The delegating route's 2s replaces the host's 150ms; the child inherits it.
  func testDelegatingRouteOverridesTheHostsTimeout() async throws {
    let response = try await send(.GET, gateway.base + "/team/delay/500", host: "inherit.test")
    XCTAssertEqual(response.status, 200)
    let untouched = try await send(.GET, gateway.base + "/delay/500", host: "inherit.test")
    XCTAssertEqual(untouched.status, 404, "outside the team's prefix nothing routes")
  }

  /// The child's own timeout replaces the delegating route's in turn.
  func testChildRouteOverridesAgain() async throws {
    let response = try await send(.GET, gateway.base + "/team/own-cors/delay/500", host: "inherit.test")
    XCTAssertEqual(response.status, 504)
  }

  /// Retries come from the host through both levels, unless the child turns them off.
  func testRetriesInheritedOrTurnedOff() async throws {
    let inherited = try await send(
      .GET, gateway.base + "/team/flaky/2/\(UUID().uuidString)", host: "inherit.test")
    XCTAssertEqual(inherited.status, 200)
    XCTAssertEqual(inherited.upstreamHeader("x-portico-attempt-count"), ["3"])
    let off = try await send(
      .GET, gateway.base + "/team/no-retries/flaky/1/\(UUID().uuidString)", host: "inherit.test")
    XCTAssertEqual(off.status, 503)
  }

  /// One field at a time: the child replaces the host's CORS origins, and keeps everything else.
  func testCORSReplacedWholeButOnlyThatField() async throws {
    let own = try await send(
      .GET, gateway.base + "/team/own-cors", host: "inherit.test",
      headers: [("origin", "https://team.example")])
    XCTAssertEqual(own.headers["access-control-allow-origin"], ["https://team.example"])
    let hosts = try await send(
      .GET, gateway.base + "/team/own-cors", host: "inherit.test",
      headers: [("origin", "https://host.example")])
    XCTAssertEqual(hosts.headers["access-control-allow-origin"], [])
    let other = try await send(
      .GET, gateway.base + "/team/x", host: "inherit.test", headers: [("origin", "https://host.example")])
    XCTAssertEqual(other.headers["access-control-allow-origin"], ["https://host.example"])
  }
}
