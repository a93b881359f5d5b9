import NIOCore
import XCTest

@testable import PorticoProxy

final class BalancingTests: XCTestCase {
  func testWeightedSplitHoldsWithinThreePointsOverTenThousandRequests() async throws {
    let gateway = try await TestGateway(upstreams: ["light", "heavy"]) { gateway in
      gatewayManifest() + staticDestination("light", ports: [gateway.port("light")])
        + staticDestination("heavy", ports: [gateway.port("heavy")])
        + virtualHost(
          "split.test",
          routes: """
              - routeAction: {destinations: [{staticDestination: {name: light}, weight: 30}, {staticDestination: {name: heavy}, weight: 70}]}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    let results = try await load(gateway.base + "/", host: "split.test", count: 10_000, concurrency: 32)
    XCTAssertEqual(results.filter { $0.status == 200 }.count, 10_000)
    let light = Double(results.filter { $0.upstream == "light" }.count) / 100
    XCTAssertEqual(light, 30, accuracy: 3, "light got \(light)%")
  }

  func testRoundRobinVisitsEveryEndpointInTurn() async throws {
    let gateway = try await TestGateway(upstreams: ["a", "b", "c"]) { gateway in
      gatewayManifest()
        + """
        apiVersion: portico.dev/v1
        kind: StaticDestination
        metadata: {name: trio, namespace: apps}
        spec:
          endpoints:
          - {address: 127.0.0.1, port: \(gateway.port("a"))}
          - {address: 127.0.0.1, port: \(gateway.port("b"))}
          - {address: 127.0.0.1, port: \(gateway.port("c"))}
        ---

        """
        + virtualHost(
          "rr.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: trio}}]}")
    }
    addTeardownBlock { await gateway.stop() }
    var order: [String] = []
    for _ in 0..<9 {
      let response = try await send(.GET, gateway.base + "/", host: "rr.test")
      order.append(response.headers.first(name: "x-upstream") ?? "?")
    }
    XCTAssertEqual(order, ["a", "b", "c", "a", "b", "c", "a", "b", "c"])
  }

  func testLeastRequestAvoidsTheBusyEndpoint() async throws {
    let gateway = try await TestGateway(
      upstreams: ["slow", "fast"], behaviours: ["slow": .init(delay: .milliseconds(100))]
    ) { gateway in
      gatewayManifest()
        + staticDestination(
          "pair", ports: [gateway.port("slow"), gateway.port("fast")], extra: ", loadBalancer: LEAST_REQUEST")
        + virtualHost(
          "lr.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: pair}}]}")
    }
    addTeardownBlock { await gateway.stop() }
    let results = try await load(gateway.base + "/", host: "lr.test", count: 200, concurrency: 8)
    let fast = results.filter { $0.upstream == "fast" }.count
    XCTAssertGreaterThan(fast, 150, "least-request sent \(fast) of 200 to the fast endpoint")
  }
}
