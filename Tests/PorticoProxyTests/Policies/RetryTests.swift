import Foundation
import XCTest

@testable import PorticoProxy

/// `retries`: tries again on connect failures, resets, 502/503/504 and per-try timeouts, on another
/// endpoint where there is one, only while the request can be replayed, and within a retry budget.
final class RetryTests: XCTestCase {
  var gateway: TestGateway!
  let recorder = DemoUpstream.RequestRecorder()
  let outageRecorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    let deadPort = try await closedPort()
    gateway = try await TestGateway(
      upstreams: ["echo", "slow", "down"],
      behaviours: [
        "echo": .init(recorder: recorder),
        "slow": .init(delay: .seconds(1)),
        "down": .init(delay: .milliseconds(100), failWith: 503, recorder: outageRecorder),
      ],
      manifests: { gateway in
        gatewayManifest()
          + staticDestination("echo", ports: [gateway.port("echo")])
          + staticDestination("half-dead", ports: [deadPort, gateway.port("echo")])
          + staticDestination("half-slow", ports: [gateway.port("slow"), gateway.port("echo")])
          + staticDestination("down", ports: [gateway.port("down")])
          + staticDestination("capped", ports: [gateway.port("echo")])
          + virtualHost(
            "retry.test",
            options: "  options: {trafficPolicy: {retries: {attempts: 3}}}",
            routes: """
                - matchers: [{uri: {prefix: /half-dead}}]
                  options: {retries: {attempts: 1}}
                  routeAction: {destinations: [{staticDestination: {name: half-dead}}]}
                - matchers: [{uri: {prefix: /half-slow}}]
                  options: {retries: {attempts: 1, perTryTimeout: 200ms}}
                  routeAction: {destinations: [{staticDestination: {name: half-slow}}]}
                - matchers: [{uri: {prefix: /down}}]
                  options: {retries: {attempts: 5}}
                  routeAction: {destinations: [{staticDestination: {name: down}}]}
                - matchers: [{uri: {prefix: /flaky/1/delayed}}]
                  options: {faultInjection: {fixedDelay: 200ms}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /flaky/1/capped}}]
                  options: {connectionPoolSettings: {http: {maxRetries: 0}}}
                  routeAction: {destinations: [{staticDestination: {name: capped}}]}
                - matchers: [{uri: {prefix: /flaky/1/plain}}]
                  options: {retries: {attempts: 0}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  func key() -> String { UUID().uuidString }

  /// The host allows 3 retries: a backend failing twice is answered by the third try, which says so.
  func testBackendFailingTwiceSucceedsOnTheThirdTry() async throws {
    let response = try await send(.GET, gateway.base + "/flaky/2/\(key())/done", host: "retry.test")
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(response.upstreamHeader("x-portico-attempt-count"), ["3"])
    XCTAssertEqual(recorder.requests.count, 3)
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains("portico_upstream_retries_total 2"), metrics)
  }

  /// Four failures are one more than three retries: the last 503 goes to the client.
  func testRetriesRunOut() async throws {
    let response = try await send(.GET, gateway.base + "/flaky/4/\(key())/done", host: "retry.test")
    XCTAssertEqual(response.status, 503)
    XCTAssertEqual(recorder.requests.count, 4)
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["URX"])
  }

  func testBodiesAreReplayed() async throws {
    let body = String(repeating: "r", count: 50_000)
    let response = try await send(
      .POST, gateway.base + "/flaky/1/\(key())/upload", host: "retry.test", body: body)
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.json["bodyBytes"] as? Int, 50_000)
    XCTAssertEqual(recorder.requests.map(\.bodyBytes), [50_000, 50_000])
  }

  /// Body that arrives while a fault delay holds the request is replayed too.
  func testBodyReceivedDuringADelayIsReplayed() async throws {
    let response = try await send(
      .POST, gateway.base + "/flaky/1/delayed-\(key())", host: "retry.test",
      body: String(repeating: "d", count: 500))
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(recorder.requests.map(\.bodyBytes), [500, 500])
  }

  /// More body than is kept for replay: the request is not retried.
  func testLongBodiesAreNotRetried() async throws {
    let response = try await sendStreamed(
      .POST, gateway.base + "/flaky/1/\(key())/upload", host: "retry.test", pieces: 24, size: 64 * 1024)
    XCTAssertEqual(response.status, 503)
    XCTAssertEqual(recorder.requests.count, 1)
  }

  /// `maxRetries: 0` on the upstream's pool allows no retry at all, whatever the route says.
  func testPoolMaxRetriesCapsRetries() async throws {
    let response = try await send(.GET, gateway.base + "/flaky/1/capped-\(key())", host: "retry.test")
    XCTAssertEqual(response.status, 503)
    XCTAssertEqual(recorder.requests.count, 1)
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains("portico_upstream_retries_over_budget_total 1"), metrics)
  }

  /// The route's `attempts: 0` replaces the host's three.
  func testRouteTurnsRetriesOff() async throws {
    let response = try await send(.GET, gateway.base + "/flaky/1/plain-\(key())", host: "retry.test")
    XCTAssertEqual(response.status, 503)
    XCTAssertEqual(recorder.requests.count, 1)
    XCTAssertNil(response.upstreamHeader("x-portico-attempt-count"))
  }

  /// One endpoint refuses connections: each request that lands on it is retried on the other. (Round
  /// robin starts each request on the refusing one again; outlier detection would take it out.)
  func testConnectFailureGoesToAnotherEndpoint() async throws {
    for _ in 0..<6 {
      let response = try await send(.GET, gateway.base + "/half-dead", host: "retry.test")
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.upstreamHeader("x-portico-attempt-count"), ["2"])
    }
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains("portico_upstream_connect_errors_total 6"), metrics)
  }

  /// One endpoint takes a second: its tries time out after 200 ms and go to the other.
  func testPerTryTimeoutRetriesElsewhere() async throws {
    let started = ContinuousClock.now
    for _ in 0..<4 {
      let response = try await send(.GET, gateway.base + "/half-slow", host: "retry.test")
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.headers["x-upstream"], ["echo"])
    }
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
  }

  /// In a full outage, retries in flight stay within a fifth of the requests (at least 3): sixty
  /// concurrent requests with five retries each would send 360 requests without a budget.
  func testRetryBudgetCapsRetriesInAnOutage() async throws {
    let base = gateway.base
    let statuses = try await sendConcurrently(count: 60, host: "retry.test") { _ in base + "/down" }
    XCTAssertEqual(statuses, Array(repeating: 503, count: 60))
    XCTAssertLessThan(outageRecorder.requests.count, 150, "\(outageRecorder.requests.count) tries")
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertFalse(metrics.contains("portico_upstream_retries_over_budget_total 0"), metrics)
  }
}
