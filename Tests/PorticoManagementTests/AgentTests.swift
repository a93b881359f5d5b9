import Foundation
import Logging
import PorticoManagement
import PorticoRelay
import XCTest

final class AgentTests: XCTestCase {
  private func startAgent(_ plane: RunningPlane, cluster: String, folder: String) throws -> (
    ClusterAgent, Task<Void, Never>
  ) {
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
    await plane.stop()
  }
}
