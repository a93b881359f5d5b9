import NIOCore
import XCTest

@testable import PorticoProxy

/// 503 and 504 paths, pool limits and passive outlier detection.
final class FailureTests: XCTestCase {
  func testConnectFailureIs503AndTimeoutIs504() async throws {
    let deadPort = try await closedPort()
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + staticDestination("dead", ports: [deadPort])
        + virtualHost(
          "fail.test",
          routes: """
              - {matchers: [{uri: {prefix: /dead}}], routeAction: {destinations: [{staticDestination: {name: dead}}]}}
              - {matchers: [{uri: {prefix: /delay}}], options: {requestTimeout: 200ms}, routeAction: {destinations: [{staticDestination: {name: echo}}]}}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    let dead = try await send(.GET, gateway.base + "/dead", host: "fail.test")
    XCTAssertEqual(dead.status, 503)
    let started = ContinuousClock.now
    let slow = try await send(.GET, gateway.base + "/delay/3000", host: "fail.test")
    XCTAssertEqual(slow.status, 504)
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "the timeout answered, not the upstream")
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["UF", "UT"])
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains("portico_upstream_connect_errors_total 1"), metrics)
    XCTAssertTrue(metrics.contains("portico_upstream_timeouts_total 1"), metrics)
  }

  func testPoolLimitsOverflowTo503() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "pool.test",
          routes: """
              - options: {connectionPoolSettings: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    async let first = send(.GET, gateway.base + "/delay/400", host: "pool.test")
    try await Task.sleep(for: .milliseconds(100))
    async let second = send(.GET, gateway.base + "/delay/10", host: "pool.test")
    try await Task.sleep(for: .milliseconds(100))
    let third = try await send(.GET, gateway.base + "/", host: "pool.test")
    XCTAssertEqual(third.status, 503, "one connection busy, one request waiting: the third overflows")
    let statuses = try await [first.status, second.status]
    XCTAssertEqual(statuses, [200, 200], "the waiting request got the connection when it freed up")
    let overflowLogged = await gateway.accessLog().contains { $0["flags"] as? String == "UO" }
    XCTAssertTrue(overflowLogged)
  }

  func testOutlierDetectionEjectsAFailingEndpointAndLetsItBack() async throws {
    let gateway = try await TestGateway(
      upstreams: ["good", "bad"], behaviours: ["bad": .init(failWith: 500)]
    ) { gateway in
      gatewayManifest() + staticDestination("pair", ports: [gateway.port("good"), gateway.port("bad")])
        + virtualHost(
          "outlier.test",
          options:
            "  options: {trafficPolicy: {outlierDetection: {consecutiveErrors: 2, baseEjectionTime: 1s, maxEjectionPercent: 50}}}",
          routes: "  - routeAction: {destinations: [{staticDestination: {name: pair}}]}")
    }
    addTeardownBlock { await gateway.stop() }
    var failures = 0
    for _ in 0..<20 {
      if try await send(.GET, gateway.base + "/", host: "outlier.test").status == 500 { failures += 1 }
    }
    XCTAssertEqual(failures, 2, "two consecutive errors eject the endpoint; the rest go to the good one")
    XCTAssertTrue(gateway.gateway.metrics.exposition().contains("portico_outlier_ejections_total 1"))
    try await Task.sleep(for: .milliseconds(1_200))
    var afterEjection = 0
    for _ in 0..<4 {
      if try await send(.GET, gateway.base + "/", host: "outlier.test").status == 500 { afterEjection += 1 }
    }
    XCTAssertGreaterThan(afterEjection, 0, "after the ejection time the endpoint gets traffic again")
  }
}

/// Keep-alive pooling: connections are reused, up to `maxRequestsPerConnection`, until `idleTimeout`.
final class PoolReuseTests: XCTestCase {
  func testConnectionsAreReusedWithinTheirLimits() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "reuse.test",
          routes: """
              - matchers: [{uri: {prefix: /limited}}]
                options: {connectionPoolSettings: {http: {maxRequestsPerConnection: 2, idleTimeout: 300ms}}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    var counts: [Int] = []
    for _ in 0..<5 {
      let response = try await send(.GET, gateway.base + "/limited", host: "reuse.test")
      counts.append(response.json["connectionRequests"] as? Int ?? -1)
    }
    XCTAssertEqual(counts, [1, 2, 1, 2, 1], "a connection carries at most two requests")
    try await Task.sleep(for: .milliseconds(600))
    let afterIdle = try await send(.GET, gateway.base + "/limited", host: "reuse.test")
    XCTAssertEqual(afterIdle.json["connectionRequests"] as? Int, 1, "the idle connection was closed")
  }

  func testAKeptAliveConnectionCarriesManyRequests() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "keep.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
    }
    addTeardownBlock { await gateway.stop() }
    var last = 0
    for _ in 0..<10 {
      last =
        try await send(.GET, gateway.base + "/", host: "keep.test").json["connectionRequests"] as? Int ?? -1
    }
    XCTAssertEqual(last, 10, "sequential requests share one upstream connection")
  }
}

final class PoolQueueTests: XCTestCase {
  /// A request that gives up while waiting for a connection leaves the queue, so later requests can wait
  /// instead of overflowing.
  func testAbandonedWaitersFreeTheirPlace() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "queue.test",
          routes: """
              - matchers: [{uri: {prefix: /slow}}]
                options: {requestTimeout: 0s, connectionPoolSettings: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}
                routeAction: {pathRewrite: /delay, destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /quick}}]
                options: {requestTimeout: 150ms}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    async let slow = send(.GET, gateway.base + "/slow/1200", host: "queue.test")
    try await Task.sleep(for: .milliseconds(100))
    let first = try await send(.GET, gateway.base + "/quick", host: "queue.test")
    XCTAssertEqual(first.status, 504, "it waited for the busy connection and timed out")
    let second = try await send(.GET, gateway.base + "/quick", host: "queue.test")
    XCTAssertEqual(second.status, 504, "the queue had room again: it waited rather than overflowing (503)")
    let slowStatus = try await slow.status
    XCTAssertEqual(slowStatus, 200)
  }
}
