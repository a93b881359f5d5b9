import Foundation
import XCTest

@testable import PorticoProxy

/// `faultInjection`: aborts and delays on the configured share of requests, drawn independently, and
/// inherited like any option.
final class FaultInjectionTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "faults.test",
          options: "  options: {trafficPolicy: {faultInjection: {abort: {httpStatus: 500}}}}",
          routes: """
              - matchers: [{uri: {prefix: /abort}}]
                options: {faultInjection: {abort: {httpStatus: 503}, percentage: 30}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /delay}}]
                options: {faultInjection: {fixedDelay: 150ms}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /both}}]
                options: {faultInjection: {fixedDelay: 100ms, abort: {httpStatus: 418}}}
                directResponseAction: {status: 200, body: never}
              - matchers: [{uri: {prefix: /paused-answer}}]
                options: {faultInjection: {fixedDelay: 20ms}}
                directResponseAction: {status: 200, body: answered}
              - matchers: [{uri: {prefix: /calm}}]
                options: {faultInjection: {abort: {httpStatus: 500}, percentage: 0}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /inherited}}]
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
  }

  override func tearDown() async throws { await gateway.stop() }

  /// 30% of 10,000 requests, within 3 points.
  func testAbortShareHolds() throws {
    let out = try Shell.run(
      "h2load -n 10000 -c 4 -m 16 -H 'host: faults.test' \(gateway.base)/abort 2>&1")
    let codes = try XCTUnwrap(Self.statusCodes(out), out)
    XCTAssertEqual(codes.ok + codes.serverErrors, 10_000, out)
    XCTAssertEqual(Double(codes.serverErrors) / 100, 30, accuracy: 3, out)
  }

  func testDelayComesBeforeForwarding() async throws {
    let started = ContinuousClock.now
    let response = try await send(.GET, gateway.base + "/delay", host: "faults.test")
    XCTAssertEqual(response.status, 200)
    XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(150))
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["DI"])
  }

  /// A request resumed after a delay and answered by the gateway itself ends (and frees) its exchange
  /// while the resumption is still running: the gateway must not touch it afterwards.
  func testDelayThenTheGatewaysOwnAnswer() async throws {
    for _ in 0..<3 {
      let response = try await send(.GET, gateway.base + "/paused-answer", host: "faults.test")
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.body, "answered")
    }
  }

  func testDelayThenAbort() async throws {
    let started = ContinuousClock.now
    let response = try await send(.GET, gateway.base + "/both", host: "faults.test")
    XCTAssertEqual(response.status, 418)
    XCTAssertEqual(response.body, "fault filter abort\n")
    XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(100))
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["DI,FI"])
  }

  /// The virtual host aborts everything; a route's own `faultInjection` replaces that.
  func testInheritanceOneFieldAtATime() async throws {
    let inherited = try await send(.GET, gateway.base + "/inherited", host: "faults.test")
    XCTAssertEqual(inherited.status, 500)
    for _ in 0..<20 {
      let calm = try await send(.GET, gateway.base + "/calm", host: "faults.test")
      XCTAssertEqual(calm.status, 200)
    }
  }

  /// h2load's "status codes: N 2xx, N 3xx, N 4xx, N 5xx".
  static func statusCodes(_ output: String) -> (ok: Int, serverErrors: Int)? {
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("status codes:") }) else {
      return nil
    }
    let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    // "2xx" etc. contribute their digits too: counts and classes alternate.
    guard numbers.count >= 8 else { return nil }
    return (numbers[0], numbers[6])
  }
}
