import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// Two clusters in network namespaces of their own, each with a gateway (and its east-west listener), a
/// backend and an agent; the plane outside both. One VirtualGateway configures both gateways.
final class MultiClusterTests: XCTestCase {
  private var network: NetworkNamespaces?
  private var processes: [PorticoProcess] = []
  private var folder = ""

  override func tearDown() async throws {
    for process in processes { await process.kill() }
    network?.remove()
  }

  private func start(_ arguments: [String], name: String, in host: NetworkNamespaces.Host? = nil) throws
    -> PorticoProcess
  {
    let process = try PorticoProcess(arguments, directory: folder, name: name, namespace: host?.namespace)
    processes.append(process)
    return process
  }

  private let configuration = """
    apiVersion: portico.dev/v1
    kind: VirtualGateway
    metadata: {name: edge, namespace: edge}
    spec:
      ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {gateway: edge}}}]}]
      connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {namespaces: [apps]}}]}}]
    ---
    \(meshAndDestination(baseEjectionTime: "2s"))
    apiVersion: portico.dev/v1
    kind: VirtualHost
    metadata: {name: shop, namespace: apps}
    spec:
      domains: ["*"]
      routes:
      - matchers: [{uri: {prefix: /}}]
        options: {retries: {attempts: 2}, requestTimeout: 5s}
        routeAction: {destinations: [{virtualDestination: {name: shop}}]}

    """

  /// GETs a plane API path with the admin token.
  private func call(_ apiPort: Int, _ path: String) async throws -> String {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(apiPort)\(path)")
    let token = try String(contentsOfFile: folder + "/data/admin-token", encoding: .utf8)
    request.headers.add(
      name: "authorization", value: "Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))")
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    return String(buffer: try await response.body.collect(upTo: 16 << 20))
  }

  /// The backend that answered `GET http://ADDRESS:8080/`, or `status N` / `error`.
  private func server(at address: String) async -> String {
    let request = HTTPClientRequest(url: "http://\(address):8080/")
    guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(3)) else {
      return "error"
    }
    guard let body = try? await response.body.collect(upTo: 1 << 20) else { return "error" }
    guard response.status == .ok else { return "status \(response.status.code)" }
    let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
    return json?["server"] as? String ?? "?"
  }

  func testLocalBackendsServeAndTrafficFailsOverToTheOtherClusterAndBack() async throws {
    let network: NetworkNamespaces
    do {
      network = try NetworkNamespaces()
    } catch {
      throw XCTSkip("network namespaces are refused here: \(error)")
    }
    self.network = network
    let east = try network.add("e")
    let west = try network.add("w")
    folder = try temporaryDirectory("clusters")
    let (apiPort, relayPort) = (try freePort(), try freePort())
    let plane = try start(
      [
        "mgmt", "--store", "sqlite:plane.db", "--data-dir", "data", "--listen", "127.0.0.1:\(apiPort)",
        "--relay",
        "\(network.bridgeAddress):\(relayPort)", "--advertise", network.bridgeAddress,
      ], name: "mgmt")
    try await plane.waitForLine(containing: "management plane ready")
    try configuration.write(toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
    let apply = try PorticoProcess(
      ["apply", "-f", "config.yaml", "--server", "http://127.0.0.1:\(apiPort)", "--data-dir", "data"],
      directory: folder, name: "apply")
    let applied = await apply.wait()
    XCTAssertEqual(applied, 0, apply.output)

    var backends: [String: PorticoProcess] = [:]
    for (name, host, region) in [("east", east, "eu"), ("west", west, "us")] {
      try FileManager.default.createDirectory(atPath: folder + "/\(name)", withIntermediateDirectories: true)
      try clusterRegistry(shop: ("127.0.0.1", 9000), eastWest: (host.address, 15443)).write(
        toFile: folder + "/\(name)/registry.yaml", atomically: true, encoding: .utf8)
      let relay = "\(network.bridgeAddress):\(relayPort)"
      _ = try start(
        [
          "agent", "--mgmt", relay, "--relay-ca", "data/relay-ca.pem", "--token-file", "data/bootstrap-token",
          "--cluster", name, "--locality", region, "--watch", name, "--cache-dir", "agent-\(name)",
          "--gateway-admin", "127.0.0.1:9901",
        ], name: "agent-\(name)", in: host)
      backends[name] = try start(
        ["demo-upstream", "--port", "9000", "--name", name], name: "backend-\(name)", in: host)
      _ = try start(
        [
          "gateway", "--mgmt", relay, "--relay-ca", "data/relay-ca.pem", "--token-file",
          "data/bootstrap-token",
          "--cache-dir", "cache-\(name)", "--name", "edge", "--namespace", "edge", "--cluster", name,
          "--locality",
          region, "--label", "gateway=edge", "--port", "http=8080", "--east-west", "15443", "--admin",
          "127.0.0.1:9901", "--access-log", "off",
        ], name: "gateway-\(name)", in: host)
    }
    try await eventually("each cluster's gateway serves its own backend", timeout: .seconds(30)) {
      let (fromEast, fromWest) = (await self.server(at: east.address), await self.server(at: west.address))
      return fromEast == "east" && fromWest == "west"
    }
    // Ready to fail over: the east gateway runs the west cluster's registry (its east-west gateway among
    // it), and the west gateway's east-west listener is up.
    try await eventually("the east gateway knows the west's east-west gateway", timeout: .seconds(30)) {
      let answer = try await self.call(apiPort, "/relay/v1/gateways/edge/edge/config?cluster=east")
      let keys = answer.replacingOccurrences(of: "\\/", with: "/")
      guard keys.contains("Endpoints/west/portico-system/east-west") else { return false }
      let listener = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connectTimeout(.seconds(1)).connect(host: west.address, port: 15443).get()
      try? await listener?.close()
      return listener != nil
    }

    try await eventually("the east agent reports its backend healthy, as its gateway sees it") {
      try await self.shopHealth(apiPort, cluster: "east") == "healthy"
    }

    // The east backend dies: the east gateway's traffic goes to the west cluster, through its east-west
    // listener, within a second, and no request fails but those in flight.
    await backends["east"]!.kill()
    let killed = ContinuousClock.now
    var answers: [(Duration, String)] = []
    while ContinuousClock.now - killed < .seconds(2) {
      answers.append((ContinuousClock.now - killed, await server(at: east.address)))
    }
    let failed = answers.filter { $0.1 != "east" && $0.1 != "west" }
    XCTAssertLessThanOrEqual(failed.count, 1, "only a request in flight may fail: \(failed)")
    let firstWest = try XCTUnwrap(answers.first { $0.1 == "west" }?.0)
    XCTAssertLessThan(firstWest, .seconds(1))
    XCTAssertFalse(answers.contains { $0.0 > firstWest && $0.1 != "west" }, "it stays in the west")
    try await eventually("the east agent reports its backend ejected") {
      try await self.shopHealth(apiPort, cluster: "east") == "ejected"
    }

    // Back: once its ejection ends, the east takes its traffic back.
    _ = try start(
      ["demo-upstream", "--port", "9000", "--name", "east"], name: "backend-east-again", in: east)
    try await eventually("traffic returns to the east", timeout: .seconds(15)) {
      await self.server(at: east.address) == "east"
    }
    try await eventually("and reports it healthy again") {
      try await self.shopHealth(apiPort, cluster: "east") == "healthy"
    }
  }

  /// The state the plane has for the shop backend of `cluster`, as that cluster's agent reported it.
  private func shopHealth(_ apiPort: Int, cluster: String) async throws -> String? {
    let answer = try await call(apiPort, "/relay/v1/clusters")
    let json = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
    let agent = (json?["clusters"] as? [[String: Any]])?.first { $0["cluster"] as? String == cluster }
    let shop = (agent?["endpoints"] as? [[String: Any]])?.first {
      $0["namespace"] as? String == "apps" && $0["name"] as? String == "shop"
    }
    return shop?["state"] as? String
  }
}
