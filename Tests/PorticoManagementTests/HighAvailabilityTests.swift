import Foundation
import XCTest

/// Two plane replicas on one three-member etcd cluster, and a gateway that knows both.
final class HighAvailabilityTests: XCTestCase {
  private var processes: [PorticoProcess] = []
  private var etcd: EtcdCluster?
  private var folder = ""

  override func tearDown() async throws {
    for process in processes { await process.kill() }
    etcd?.stop()
  }

  private func start(_ arguments: [String], name: String) throws -> PorticoProcess {
    let process = try PorticoProcess(arguments, directory: folder, name: name)
    processes.append(process)
    return process
  }

  private func cli(_ arguments: [String], api: Int) async throws -> (Int32, String) {
    let process = try PorticoProcess(
      arguments + ["--server", "http://127.0.0.1:\(api)", "--data-dir", "data-a"], directory: folder,
      name: "cli")
    let status = await process.wait()
    return (status, process.output)
  }

  func testKillingTheReplicaAGatewayUsesLosesNothing() async throws {
    let etcd = try EtcdCluster()
    self.etcd = etcd
    try await etcd.waitUntilHealthy()
    folder = try temporaryDirectory("replicas")
    let apis = [try freePort(), try freePort()]
    let relays = [try freePort(), try freePort()]
    func replica(_ index: Int, data: String) throws -> PorticoProcess {
      try start(
        [
          "mgmt", "--store", etcd.storeURL, "--data-dir", data, "--listen", "127.0.0.1:\(apis[index])",
          "--relay",
          "127.0.0.1:\(relays[index])",
        ], name: "mgmt-\(index)")
    }
    let first = try replica(0, data: "data-a")
    try await first.waitForLine(containing: "management plane ready")
    // The second replica takes the first's tokens and CAs from etcd: nothing is copied by hand.
    let second = try replica(1, data: "data-b")
    try await second.waitForLine(containing: "management plane ready")
    for file in ["admin-token", "bootstrap-token", "relay-ca.pem", "mesh-ca.pem"] {
      XCTAssertEqual(
        try String(contentsOfFile: folder + "/data-b/" + file, encoding: .utf8),
        try String(contentsOfFile: folder + "/data-a/" + file, encoding: .utf8), file)
    }

    try (Manifests.gateway + "---\n" + Manifests.host(body: "one")).write(
      toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
    let (applied, output) = try await cli(["apply", "-f", "config.yaml"], api: apis[0])
    XCTAssertEqual(applied, 0, output)

    let gateway = try start(
      [
        "gateway", "--mgmt", "127.0.0.1:\(relays[0]),127.0.0.1:\(relays[1])", "--relay-ca",
        "data-a/relay-ca.pem",
        "--token-file", "data-a/bootstrap-token", "--cache-dir", "cache", "--name", "edge-1", "--namespace",
        "edge",
        "--label", "gateway=edge", "--port", "http=0", "--admin", "127.0.0.1:0", "--access-log", "off",
      ], name: "gateway")
    let line = try await gateway.waitForLine(containing: "listening", "port_name=http")
    let port = try XCTUnwrap(listeningPort(in: line))
    try await eventually("the first version") { await hello(port: port) == "one" }

    // The other replica sees the resource and the gateway, though the gateway is not connected to it.
    try await eventually("the gateway, seen from the other replica") {
      let (_, status) = try await self.cli(["status", "-o", "json"], api: apis[1])
      return status.contains("\"connected\" : true")
    }

    await first.kill()
    let killed = ContinuousClock.now
    try (Manifests.host(body: "two")).write(toFile: folder + "/host.yaml", atomically: true, encoding: .utf8)
    let (changed, changeOutput) = try await cli(["apply", "-f", "host.yaml"], api: apis[1])
    XCTAssertEqual(changed, 0, changeOutput)
    try await eventually("served by the other replica within 5 s", timeout: .seconds(5)) {
      await hello(port: port) == "two"
    }
    XCTAssertLessThan(ContinuousClock.now - killed, .seconds(5))
    let (_, read) = try await cli(["get", "virtualhost", "hello", "-n", "edge", "-o", "json"], api: apis[1])
    XCTAssertTrue(read.contains("\"generation\" : 2"), "nothing lost: \(read)")
    try await eventually("Programmed, seen from the replica left") {
      let (_, status) = try await self.cli(
        ["get", "virtualhost", "hello", "-n", "edge", "-o", "json"], api: apis[1])
      return status.contains("\"programmed\" : true")
    }
  }
}
