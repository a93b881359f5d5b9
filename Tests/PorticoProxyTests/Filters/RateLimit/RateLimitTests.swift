import Foundation
import XCTest

@testable import PorticoProxy

/// `rateLimit` on a running gateway, with the local store: 429 with the `x-ratelimit-*` headers past a
/// rule's limit, counters apart per value, descriptors without a value never limited, exact counts across
/// event loops, shadow rules that only count, and the metrics per rule and outcome. Windows are a DAY long,
/// so that no test straddles one.
final class RateLimitTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + """
        apiVersion: portico.dev/v1
        kind: RateLimitServerConfig
        metadata: {name: limits, namespace: apps}
        spec:
          raw:
            descriptors:
            - key: user
              rateLimit: {unit: DAY, requestsPerUnit: 2}
            - key: burst
              rateLimit: {unit: DAY, requestsPerUnit: 15}
            - key: watched
              shadowMode: true
              rateLimit: {unit: DAY, requestsPerUnit: 1}
        ---

        """
        + virtualHost(
          "limits.test",
          routes: """
              - matchers: [{uri: {prefix: /user}}]
                options:
                  rateLimit:
                    ratelimitServerConfigSelector: {}
                    raw: {rateLimits: [{actions: [{requestHeaders: {headerName: x-user, descriptorKey: user}}]}]}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /burst}}]
                options:
                  rateLimit:
                    ratelimitServerConfigSelector: {}
                    raw: {rateLimits: [{actions: [{genericKey: {descriptorKey: burst, descriptorValue: all}}]}]}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /watched}}]
                options:
                  rateLimit:
                    ratelimitServerConfigSelector: {}
                    raw: {rateLimits: [{actions: [{genericKey: {descriptorKey: watched, descriptorValue: all}}]}]}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
  }

  override func tearDown() async throws { await gateway.stop() }

  private func get(_ path: String, user: String? = nil) async throws -> TestResponse {
    try await send(
      .GET, gateway.base + path, host: "limits.test", headers: user.map { [("x-user", $0)] } ?? [])
  }

  func testEachValueHasItsOwnCounterAndThe429SaysWhen() async throws {
    let first = try await get("/user", user: "alice")
    let second = try await get("/user", user: "alice")
    XCTAssertEqual([first.status, second.status], [200, 200])
    let refused = try await get("/user", user: "alice")
    XCTAssertEqual(refused.status, 429)
    XCTAssertEqual(refused.headers.first(name: "x-ratelimit-limit"), "2")
    XCTAssertEqual(refused.headers.first(name: "x-ratelimit-remaining"), "0")
    let reset = try XCTUnwrap(Int(refused.headers.first(name: "x-ratelimit-reset") ?? ""))
    XCTAssertTrue((1...86_400).contains(reset), "seconds to the end of the day's window: \(reset)")
    XCTAssertEqual(refused.headers.first(name: "retry-after"), String(reset))

    let bob = try await get("/user", user: "bob")
    XCTAssertEqual(bob.status, 200, "another value, another counter")
    for _ in 0..<4 {
      let anonymous = try await get("/user")
      XCTAssertEqual(anonymous.status, 200, "no header: the descriptor is dropped, nothing limits it")
    }
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(
      metrics.contains(
        #"portico_ratelimit_requests_total{config="apps/limits",rule="user",outcome="refused"} 1"#),
      metrics)
    XCTAssertTrue(
      metrics.contains(
        #"portico_ratelimit_requests_total{config="apps/limits",rule="user",outcome="allowed"} 3"#),
      metrics)
  }

  func testTheLimitIsExactUnderConcurrency() async throws {
    let url = gateway.base + "/burst"
    let statuses = try await sendConcurrently(count: 40, host: "limits.test") { _ in url }
    XCTAssertEqual(statuses.filter { $0 == 200 }.count, 15, "\(statuses)")
    XCTAssertEqual(statuses.filter { $0 == 429 }.count, 25)
  }

  func testAShadowRuleCountsButNeverRefuses() async throws {
    for _ in 0..<3 {
      let response = try await get("/watched")
      XCTAssertEqual(response.status, 200)
    }
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(
      metrics.contains(
        #"portico_ratelimit_requests_total{config="apps/limits",rule="watched",outcome="shadowed"} 2"#),
      metrics)
  }
}
