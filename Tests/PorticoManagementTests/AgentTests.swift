import Foundation
import Logging
import PorticoManagement
import PorticoRelay
import XCTest

final class AgentTests: XCTestCase {
  private func startAgent(
    _ plane: RunningPlane, cluster: String, folder: String, gatewayAdmin: String? = nil,
    refresh: Duration = .seconds(10)
  ) throws -> (ClusterAgent, Task<Void, Never>) {
    var logger = Logger(label: "test.agent")
    logger.logLevel = .critical
    let link = RelayLink(
      host: "127.0.0.1", port: plane.relayPort,
      relayCA: try String(contentsOfFile: plane.data.relayCAFile, encoding: .utf8),
      identity: GatewayIdentity(name: "agent", namespace: "portico-system", cluster: cluster),
      tokenFile: plane.data.bootstrapTokenFile,
      cache: SnapshotCache(directory: try temporaryDirectory("agent")))
    var options = ClusterAgent.Options(
      link: link, cluster: cluster, locality: .init(region: "eu", zone: "a"), directory: folder)
    options.interval = .milliseconds(50)
    options.gatewayAdmin = gatewayAdmin
    options.refresh = refresh
    let agent = ClusterAgent(options: options, logger: logger)
    return (agent, Task { await agent.run() })
  }

  private let registry = """
    apiVersion: v1
    kind: Service
    metadata: {name: shop, namespace: apps}
    spec: {ports: [{name: http, port: 8080}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: shop, namespace: apps}
    subsets: [{addresses: [{ip: 10.0.0.1}], ports: [{name: http, port: 8080}]}]
    ---
    apiVersion: v1
    kind: Endpoints
    metadata:
      name: pinned
      namespace: apps
      labels: {topology.kubernetes.io/region: us}
    subsets: [{addresses: [{ip: 10.0.0.2}], ports: [{port: 80}]}]

    """

  func testAnAgentReportsItsClusterStampedWithClusterAndLocality() async throws {
    let plane = try await RunningPlane.start()
    let folder = try temporaryDirectory("cluster")
    try registry.write(toFile: folder + "/registry.yaml", atomically: true, encoding: .utf8)
    let (agent, task) = try startAgent(plane, cluster: "east", folder: folder)
    try await eventually("the Service") {
      try await plane.call(.GET, "/api/v1/namespaces/apps/services/shop?cluster=east").status == .ok
    }
    let endpoints = try await plane.call(.GET, "/api/v1/namespaces/apps/endpoints/shop?cluster=east").json
    let labels = (endpoints["metadata"] as? [String: Any])?["labels"] as? [String: String]
    XCTAssertEqual(labels?["topology.kubernetes.io/region"], "eu", "the agent's locality")
    XCTAssertEqual(labels?["topology.kubernetes.io/zone"], "a")
    let pinned = try await plane.call(.GET, "/api/v1/namespaces/apps/endpoints/pinned?cluster=east").json
    let pinnedLabels = (pinned["metadata"] as? [String: Any])?["labels"] as? [String: String]
    XCTAssertEqual(pinnedLabels, ["topology.kubernetes.io/region": "us"], "its own labels win")

    try registry.replacingOccurrences(of: "10.0.0.1", with: "10.0.0.9").write(
      toFile: folder + "/registry.yaml", atomically: true, encoding: .utf8)
    try await eventually("the change") {
      try await plane.call(.GET, "/api/v1/namespaces/apps/endpoints/shop?cluster=east").text.contains(
        "10.0.0.9")
    }
    try FileManager.default.removeItem(atPath: folder + "/registry.yaml")
    try await eventually("the removal") {
      try await plane.call(.GET, "/api/v1/namespaces/apps/services/shop?cluster=east").status == .notFound
    }
    XCTAssertNil(agent.progress.lastError)
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }

  func testTheClustersListShowsEachAgentsEndpointsAndWhenItFallsSilent() async throws {
    let plane = try await RunningPlane.start()
    let folder = try temporaryDirectory("cluster")
    try registry.write(toFile: folder + "/registry.yaml", atomically: true, encoding: .utf8)
    // A gateway admin listener that is not there: every endpoint's health is unknown, none is made up.
    let (_, task) = try startAgent(
      plane, cluster: "east", folder: folder, gatewayAdmin: "127.0.0.1:\(try freePort())",
      refresh: .seconds(1))
    func east() async throws -> [String: Any]? {
      let clusters = try await plane.call(.GET, "/relay/v1/clusters").json["clusters"] as? [[String: Any]]
      return clusters?.first { $0["cluster"] as? String == "east" }
    }
    try await eventually("the agent's report") { try await east()?["unknown"] as? Int == 2 }
    let reported = try await east()
    XCTAssertEqual(reported?["silent"] as? Bool, false)
    let addresses = (reported?["endpoints"] as? [[String: Any]])?.map {
      "\($0["namespace"]!)/\($0["name"]!) \($0["address"]!):\($0["port"]!) \($0["state"]!)"
    }
    XCTAssertEqual(
      addresses?.sorted(), ["apps/pinned 10.0.0.2:80 unknown", "apps/shop 10.0.0.1:8080 unknown"])

    task.cancel()
    _ = await task.value
    try await eventually("silent after three refresh intervals", timeout: .seconds(10)) {
      try await east()?["silent"] as? Bool == true
    }
    let metrics = try await plane.call(.GET, "/metrics").text
    XCTAssertTrue(metrics.contains("portico_mgmt_agents_silent 1"), metrics)
    XCTAssertTrue(metrics.contains(#"portico_mgmt_endpoints{cluster="east",state="unknown"} 2"#), metrics)
    await plane.stop()
  }

  func testARestartedPlaneShipsTheRegistryBeforeAgentsReportAgain() async throws {
    let data = try temporaryDirectory("data")
    let plane = try await RunningPlane.start(dataDirectory: data)
    let folder = try temporaryDirectory("cluster")
    try registry.write(toFile: folder + "/registry.yaml", atomically: true, encoding: .utf8)
    let (_, task) = try startAgent(plane, cluster: "east", folder: folder)
    try await eventually("the report") {
      try await plane.call(.GET, "/api/v1/namespaces/apps/services/shop?cluster=east").status == .ok
    }
    task.cancel()
    _ = await task.value
    await plane.stop()
    let restarted = try await RunningPlane.start(dataDirectory: data)
    let service = try await restarted.call(.GET, "/api/v1/namespaces/apps/services/shop?cluster=east")
    XCTAssertEqual(service.status, .ok, "kept from the last report")
    await restarted.stop()
  }

  func testAnAgentCannotReportForAnotherCluster() async throws {
    let plane = try await RunningPlane.start()
    let folder = try temporaryDirectory("cluster")
    try registry.write(toFile: folder + "/registry.yaml", atomically: true, encoding: .utf8)
    var logger = Logger(label: "test.agent")
    logger.logLevel = .critical
    let link = RelayLink(
      host: "127.0.0.1", port: plane.relayPort,
      relayCA: try String(contentsOfFile: plane.data.relayCAFile, encoding: .utf8),
      identity: GatewayIdentity(name: "agent", namespace: "portico-system", cluster: "east"),
      tokenFile: plane.data.bootstrapTokenFile,
      cache: SnapshotCache(directory: try temporaryDirectory("agent")))
    let agent = ClusterAgent(
      options: .init(link: link, cluster: "west", locality: nil, directory: folder), logger: logger)
    let task = Task { await agent.run() }
    try await eventually("the refusal") { agent.progress.lastError?.contains("not west") == true }
    let answer = try await plane.call(.GET, "/api/v1/services")
    XCTAssertEqual((answer.json["items"] as? [Any])?.count, 0)
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }
}
