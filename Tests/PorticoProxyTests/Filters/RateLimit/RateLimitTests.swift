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
      self.manifests(echo: gateway.port("echo"))
    }
  }

  private func manifests(echo: Int) -> String {
    gatewayManifest() + staticDestination("echo", ports: [echo])
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
          - key: remote_address
            rateLimit: {unit: DAY, requestsPerUnit: 2}
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
            - matchers: [{uri: {prefix: /address}}]
              options:
                rateLimit:
                  ratelimitServerConfigSelector: {}
                  raw: {rateLimits: [{actions: [{remoteAddress: {}}]}]}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
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

  /// `remoteAddress` is the TCP peer: a client's `X-Forwarded-For` does not give it a counter of its own.
  /// Told to trust one proxy hop, the gateway takes the header's last entry instead.
  func testRemoteAddressTrustsForwardedForOnlyWhenTold() async throws {
    func statuses(_ gateway: TestGateway, forwardedFor: [String]) async throws -> [Int] {
      var statuses: [Int] = []
      for address in forwardedFor {
        statuses.append(
          try await send(
            .GET, gateway.base + "/address", host: "limits.test",
            headers: [("x-forwarded-for", "198.51.100.1, \(address)")]
          ).status)
      }
      return statuses
    }
    let untrusting = try await statuses(gateway, forwardedFor: ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    XCTAssertEqual(untrusting, [200, 200, 429], "one peer, one counter, whatever the header says")

    let trusting = try await TestGateway(upstreams: ["echo"]) { gateway in
      self.manifests(echo: gateway.port("echo"))
    } configure: { options in
      options.trustedProxyHops = 1
    }
    defer { Task { await trusting.stop() } }
    let counted = try await statuses(
      trusting, forwardedFor: ["192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.1"])
    XCTAssertEqual(counted, [200, 200, 200, 429], "the last entry, one counter each")
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
