import Foundation
import NIOCore
import NIOPosix
import PorticoTranslate
import XCTest

@testable import PorticoProxy

/// VirtualDestinations: a gateway prefers endpoints in its own locality, fails over in order when they are
/// gone, and comes back when they recover.
final class LocalityFailoverTests: XCTestCase {
  /// Services `shop` in clusters east (eu/a) and west (us/b), one endpoint each, behind one
  /// VirtualDestination with localized failover.
  private func manifests(east: Int, west: Int, failover: String) -> String {
    func registry(_ cluster: String, _ region: String, _ zone: String, _ port: Int) -> String {
      """
      apiVersion: v1
      kind: Service
      metadata: {name: shop, namespace: apps, clusterName: \(cluster), labels: {app: shop}}
      spec: {ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Endpoints
      metadata:
        name: shop
        namespace: apps
        clusterName: \(cluster)
        labels: {topology.kubernetes.io/region: \(region), topology.kubernetes.io/zone: \(zone)}
      subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: http, port: \(port)}]}]
      ---

      """
    }
    return gatewayManifest() + registry("east", "eu", "a", east) + registry("west", "us", "b", west)
      + """
      apiVersion: portico.dev/v1
      kind: VirtualDestination
      metadata: {name: shop, namespace: apps}
      spec:
        hostname: shop.global
        port: {number: 8080}
      \(failover)
      ---

      """
      + virtualHost(
        "shop.test",
        routes: """
            - matchers: [{uri: {prefix: /}}]
              options: {retries: {attempts: 2}}
              routeAction: {destinations: [{virtualDestination: {name: shop}}]}
          """)
  }

  private static let localized = """
      localized:
        destinationSelectors: [{kubeServiceMatcher: {labels: {app: shop}, clusters: [east, west]}}]
        outlierDetection: {consecutiveGatewayErrors: 2, baseEjectionTime: 1s}
    """

  private func servers(_ gateway: TestGateway, count: Int) async throws -> [String] {
    var names: [String] = []
    for _ in 0..<count {
      let response = try await send(.GET, gateway.base + "/", host: "shop.test")
      XCTAssertEqual(response.status, 200, response.body)
      names.append(response.json["server"] as? String ?? "status \(response.status)")
    }
    return names
  }

  func testTrafficStaysLocalFailsOverWhenLocalEndpointsGoAndComesBack() async throws {
    // The local backend on a group of its own: shutting the group down closes every connection, as a
    // process that dies would.
    let eastGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let east = try await DemoUpstream.start(name: "east", port: 0, group: eastGroup)
    let eastPort = east.localAddress!.port!
    let gateway = try await TestGateway(upstreams: ["west"]) { gateway in
      self.manifests(east: eastPort, west: gateway.port("west"), failover: Self.localized)
    } configure: { options in
      options.identity.cluster = "east"
      options.identity.locality = .init(region: "eu", zone: "a")
    }
    addTeardownBlock { await gateway.stop() }
    let local = try await servers(gateway, count: 5)
    XCTAssertEqual(Set(local), ["east"], "the gateway's own locality takes all the traffic")

    try await eastGroup.shutdownGracefully()
    let started = ContinuousClock.now
    let during = try await servers(gateway, count: 20)
    XCTAssertEqual(Set(during), ["west"], "every request is served, by the other cluster")
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
    // The admin listener says what the gateway sees: the local endpoint ejected, the other one healthy.
    let health = try await send(.GET, "http://127.0.0.1:\(gateway.adminPort)/endpoints", host: "admin")
    let endpoints = try JSONDecoder().decode([EndpointHealth].self, from: Data(health.body.utf8))
    let byCluster = Dictionary(
      endpoints.map { ($0.cluster ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    XCTAssertEqual(byCluster["east"]?.ejected, true, health.body)
    XCTAssertEqual(byCluster["east"]?.port, eastPort, health.body)
    XCTAssertGreaterThanOrEqual(byCluster["east"]?.ejections ?? 0, 1, health.body)
    XCTAssertEqual(byCluster["west"]?.ejected, false, health.body)
    let probe = try await send(.HEAD, "http://127.0.0.1:\(gateway.adminPort)/endpoints", host: "admin")
    XCTAssertEqual(probe.status, 200, "HEAD answers as GET does, without the body")

    let back = try await DemoUpstream.start(name: "east", port: eastPort)
    addTeardownBlock { try? await back.close() }
    try await Task.sleep(for: .milliseconds(1200))
    let after = try await servers(gateway, count: 5)
    XCTAssertEqual(Set(after), ["east"], "the local endpoints take the traffic back once their ejection ends")
  }

  func testStaticFailoverFollowsTheListedOrder() async throws {
    let gateway = try await TestGateway(upstreams: ["east", "west"]) { gateway in
      self.manifests(
        east: gateway.port("east"), west: gateway.port("west"),
        failover: """
            static:
              destinations:
              - kubeService: {name: shop, namespace: apps, clusterName: west}
              - kubeService: {name: shop, namespace: apps, clusterName: east}
          """)
    } configure: { options in
      options.identity.cluster = "east"
      options.identity.locality = .init(region: "eu", zone: "a")
    }
    addTeardownBlock { await gateway.stop() }
    let chosen = try await servers(gateway, count: 4)
    XCTAssertEqual(Set(chosen), ["west"], "the first destination listed wins, wherever the gateway is")
  }

  func testWithoutALocalityEveryEndpointShares() async throws {
    let gateway = try await TestGateway(upstreams: ["east", "west"]) { gateway in
      self.manifests(east: gateway.port("east"), west: gateway.port("west"), failover: Self.localized)
    }
    addTeardownBlock { await gateway.stop() }
    let chosen = try await servers(gateway, count: 4)
    XCTAssertEqual(Set(chosen), ["east", "west"])
  }
}
