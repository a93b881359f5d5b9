import Foundation
import XCTest

@testable import PorticoProxy

/// `trafficShift` on a virtual host splits each of its routes' destinations further: a route's share is
/// divided among the shift's destinations by their weights.
final class TrafficShiftTests: XCTestCase {
  func testShiftSplitsTheRoutesDestination() async throws {
    let gateway = try await TestGateway(upstreams: ["blue", "green", "old"]) { gateway in
      gatewayManifest()
        + staticDestination("blue", ports: [gateway.port("blue")])
        + staticDestination("green", ports: [gateway.port("green")])
        + staticDestination("old", ports: [gateway.port("old")])
        + virtualHost(
          "shift.test",
          options: """
              options:
                trafficPolicy:
                  trafficShift:
                    destinations:
                    - {staticDestination: {name: blue}, weight: 3}
                    - {staticDestination: {name: green}, weight: 1}
            """,
          routes: "  - routeAction: {destinations: [{staticDestination: {name: old}}]}")
    }
    addTeardownBlock { await gateway.stop() }
    // 2,000 requests: the ±0.05 band is then five standard deviations wide (with 500 it was 2.6, and a
    // correct split failed about one run in a hundred).
    let requests = 2_000
    var counts: [String: Int] = [:]
    for _ in 0..<requests {
      let response = try await send(.GET, gateway.base + "/", host: "shift.test")
      counts[response.headers["x-upstream"].first ?? "?", default: 0] += 1
    }
    XCTAssertNil(counts["old"], "the route's own destination is shifted away entirely")
    XCTAssertEqual(Double(counts["blue"] ?? 0) / Double(requests), 0.75, accuracy: 0.05, "\(counts)")
    XCTAssertEqual(Double(counts["green"] ?? 0) / Double(requests), 0.25, accuracy: 0.05, "\(counts)")
  }

  /// Weights multiply: large ones saturate instead of overflowing.
  func testLargeWeightsDoNotOverflow() async throws {
    let gateway = try await TestGateway(upstreams: ["blue"]) { gateway in
      gatewayManifest()
        + staticDestination("blue", ports: [gateway.port("blue")])
        + virtualHost(
          "huge.test",
          options: """
              options:
                trafficPolicy:
                  trafficShift: {destinations: [{staticDestination: {name: blue}, weight: 4000000000}]}
            """,
          routes: "  - routeAction: {destinations: [{staticDestination: {name: blue}, weight: 4000000000}]}")
    }
    addTeardownBlock { await gateway.stop() }
    let response = try await send(.GET, gateway.base + "/", host: "huge.test")
    XCTAssertEqual(response.headers["x-upstream"], ["blue"])
  }
}
