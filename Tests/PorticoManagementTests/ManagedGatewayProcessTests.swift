import Foundation
import XCTest

/// The plane and its gateways as users run them: separate `portico` processes on loopback.
final class ManagedGatewayProcessTests: XCTestCase {
  private var folder = ""
  private var relayPort = 0
  private var apiPort = 0
  private var processes: [PorticoProcess] = []

  override func setUp() async throws {
    folder = try temporaryDirectory("processes")
    relayPort = try freePort()
    apiPort = try freePort()
  }

  override func tearDown() async throws {
    for process in processes { await process.kill() }
  }

  private func start(_ arguments: [String], name: String) throws -> PorticoProcess {
    let process = try PorticoProcess(arguments, directory: folder, name: name)
    processes.append(process)
    return process
  }

  private func startPlane() async throws -> PorticoProcess {
    let plane = try start(
      [
        "mgmt", "--store", "sqlite:plane.db", "--data-dir", "data", "--listen", "127.0.0.1:\(apiPort)",
        "--relay", "127.0.0.1:\(relayPort)",
      ], name: "mgmt")
    try await plane.waitForLine(containing: "management plane ready")
    return plane
  }

  /// Starts a gateway and returns it with the port its listener bound.
  private func startGateway(_ name: String) async throws -> (PorticoProcess, Int) {
    let gateway = try start(
      [
        "gateway", "--mgmt", "127.0.0.1:\(relayPort)", "--relay-ca", "data/relay-ca.pem", "--token-file",
        "data/bootstrap-token", "--cache-dir", "cache-\(name)", "--name", name, "--namespace", "edge",
        "--cluster",
        "east", "--label", "gateway=edge", "--port", "http=0", "--admin", "127.0.0.1:0", "--access-log",
        "off",
      ], name: name)
    let line = try await gateway.waitForLine(containing: "listening", "port_name=http")
    return (gateway, try XCTUnwrap(listeningPort(in: line), line))
  }

  /// Runs a CLI command to its end: (exit status, output).
  private func cli(_ arguments: [String]) async throws -> (Int32, String) {
    let process = try PorticoProcess(
      arguments + ["--server", "http://127.0.0.1:\(apiPort)", "--data-dir", "data"], directory: folder,
      name: "cli")
    let status = await process.wait()
    return (status, process.output)
  }

  private func write(_ text: String, to name: String) throws {
    try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
  }

  func testChangesReachEveryGatewayAndGatewaysSurviveThePlaneGoingAway() async throws {
    var plane = try await startPlane()
    try write(Manifests.gateway + "---\n" + Manifests.host(body: "one"), to: "config.yaml")
    let (applied, appliedOutput) = try await cli(["apply", "-f", "config.yaml"])
    XCTAssertEqual(applied, 0, appliedOutput)
    XCTAssertTrue(appliedOutput.contains("virtualhost/hello created"), appliedOutput)

    var (first, firstPort) = try await startGateway("edge-1")
    let (_, secondPort) = try await startGateway("edge-2")
    for port in [firstPort, secondPort] {
      try await eventually("gateway on \(port) serves the first version") { await hello(port: port) == "one" }
    }

    // A change: every gateway serves it and reports it Programmed.
    try write(Manifests.host(body: "two"), to: "host.yaml")
    let (changed, _) = try await cli(["apply", "-f", "host.yaml"])
    XCTAssertEqual(changed, 0)
    for port in [firstPort, secondPort] {
      try await eventually("gateway on \(port) serves the change") { await hello(port: port) == "two" }
    }
    try await eventually("both Programmed") {
      let (_, output) = try await self.cli(["get", "virtualhost", "hello", "-n", "edge", "-o", "json"])
      let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
      let gateways = (object?["status"] as? [String: Any])?["gateways"] as? [[String: Any]] ?? []
      return gateways.count == 2 && gateways.allSatisfy { $0["programmed"] as? Bool == true }
    }
    // What a connected gateway runs, explained with its own identity.
    let (explained, explanation) = try await cli([
      "explain", "--gateway", "edge-2", "--namespace", "edge", "--cluster", "east", "GET",
      "http://shop.test/hello",
    ])
    XCTAssertEqual(explained, 0, explanation)
    XCTAssertTrue(explanation.contains("route:   0. hello") && explanation.contains("\"two\""), explanation)
    let (_, routes) = try await cli([
      "routes", "--gateway", "edge-1", "--namespace", "edge", "--cluster", "east",
    ])
    XCTAssertTrue(routes.contains("hello"), routes)
    let (_, status) = try await cli(["status"])
    XCTAssertTrue(status.contains("edge/edge-1@east") && status.contains("edge/edge-2@east"), status)
    XCTAssertFalse(status.contains("behind"), status)

    // A bad manifest: refused with the file's line and field; gateways keep serving.
    try write(
      "# a comment\n" + Manifests.host(body: "three").replacingOccurrences(of: "body:", with: "bodyy:"),
      to: "bad.yaml")
    let (refused, refusal) = try await cli(["apply", "-f", "bad.yaml"])
    XCTAssertEqual(refused, 1)
    XCTAssertTrue(refusal.contains("bad.yaml:13:") && refusal.contains("directResponseAction.bodyy"), refusal)
    let stillTwo = await hello(port: firstPort)
    XCTAssertEqual(stillTwo, "two")

    // The plane goes away: gateways keep serving; one restarted meanwhile serves its cached snapshot.
    await plane.kill()
    let servedWithoutPlane = await hello(port: secondPort)
    XCTAssertEqual(servedWithoutPlane, "two")
    await first.terminate()
    (first, firstPort) = try await startGateway("edge-1")
    try await eventually("the restarted gateway serves its cache") { await hello(port: firstPort) == "two" }

    // The plane back: both reconnect and catch up with a change made since.
    plane = try await startPlane()
    try write(Manifests.host(body: "four"), to: "host.yaml")
    let (caughtUp, _) = try await cli(["apply", "-f", "host.yaml"])
    XCTAssertEqual(caughtUp, 0)
    for port in [firstPort, secondPort] {
      try await eventually("gateway on \(port) catches up", timeout: .seconds(20)) {
        await hello(port: port) == "four"
      }
    }
    _ = plane
  }

  func testAGatewayWithAWrongTokenGetsNothing() async throws {
    _ = try await startPlane()
    try write(Manifests.gateway + "---\n" + Manifests.host(body: "one"), to: "config.yaml")
    _ = try await cli(["apply", "-f", "config.yaml"])
    try write("not-the-token\n", to: "wrong-token")
    let gateway = try start(
      [
        "gateway", "--mgmt", "127.0.0.1:\(relayPort)", "--relay-ca", "data/relay-ca.pem", "--token-file",
        "wrong-token",
        "--cache-dir", "cache", "--name", "intruder", "--namespace", "edge", "--label", "gateway=edge",
        "--port",
        "http=0", "--admin", "127.0.0.1:0",
      ], name: "intruder")
    try await gateway.waitForLine(containing: "bootstrap token is not valid")
    XCTAssertFalse(gateway.output.contains("applied generation"))
  }
}
