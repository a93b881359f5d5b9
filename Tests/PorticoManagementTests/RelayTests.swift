import Foundation
import Logging
import PorticoManagement
import PorticoRelay
import X509
import XCTest

/// Records what the agent hands the gateway, and refuses on demand.
final class RecordingApplier: SnapshotApplier, @unchecked Sendable {
  private let lock = NSLock()
  private var applied: [ResourceSnapshot] = []
  private var firsts: [Bool] = []
  private var refusal: [String]?

  func apply(_ snapshot: ResourceSnapshot, first: Bool) async -> [String]? {
    lock.withLock {
      if let refusal { return refusal }
      applied.append(snapshot)
      firsts.append(first)
      return nil
    }
  }

  func refuse(with errors: [String]?) { lock.withLock { refusal = errors } }
  var snapshots: [ResourceSnapshot] { lock.withLock { applied } }
  var firstFlags: [Bool] { lock.withLock { firsts } }

  /// The body of the direct response of the last snapshot's `hello` host.
  var lastBody: String? {
    snapshots.last?.virtualHosts.first?.spec.routes?.first?.directResponseAction?.body
  }
}

final class RelayTests: XCTestCase {
  private func agent(
    _ plane: RunningPlane, name: String = "edge-1", cache: String? = nil, token: String? = nil,
    applier: RecordingApplier
  ) throws -> (GatewayAgent, Task<Void, Never>) {
    let tokenFile: String
    if let token {
      tokenFile = try temporaryDirectory("token") + "/token"
      try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
    } else {
      tokenFile = plane.data.bootstrapTokenFile
    }
    var logger = Logger(label: "test.agent")
    logger.logLevel = .critical
    let agent = GatewayAgent(
      options: .init(
        link: RelayLink(
          host: "127.0.0.1", port: plane.relayPort,
          relayCA: try String(contentsOfFile: plane.data.relayCAFile, encoding: .utf8),
          identity: GatewayIdentity(
            name: name, namespace: "edge", cluster: "east", labels: ["gateway": "edge"],
            locality: .init(region: "eu", zone: "a")),
          tokenFile: tokenFile,
          cache: SnapshotCache(directory: try cache ?? temporaryDirectory("cache")))),
      applier: applier, logger: logger)
    return (agent, Task { await agent.run() })
  }

  private func gateways(_ plane: RunningPlane) async throws -> [[String: Any]] {
    try await plane.call(.GET, "/relay/v1/gateways").json["gateways"] as? [[String: Any]] ?? []
  }

  func testAGatewayEnrolsGetsItsSnapshotThenOnlyChangesAndIsProgrammed() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.gatewayPath, body: Manifests.gateway)
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let applier = RecordingApplier()
    let (agent, task) = try agent(plane, applier: applier)
    try await eventually("the first snapshot") { applier.lastBody == "one" }
    XCTAssertEqual(applier.firstFlags.first, true, "nothing served before: what is valid is served")
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    try await eventually("the change") { applier.lastBody == "two" }
    XCTAssertEqual(applier.firstFlags.last, false)
    XCTAssertEqual(applier.snapshots.last?.virtualGateways.count, 1, "a change keeps what did not change")
    try await eventually("Programmed") {
      let status = try await plane.call(.GET, Manifests.hostPath + "/status").json
      let gateway = (status["gateways"] as? [[String: Any]])?.first
      return gateway?["programmed"] as? Bool == true && gateway?["generation"] as? Int == 2
    }
    let records = try await gateways(plane)
    let record = try XCTUnwrap(records.first)
    XCTAssertEqual(record["gateway"] as? String, "edge/edge-1@east")
    XCTAssertEqual(record["locality"] as? String, "eu/a")
    XCTAssertEqual(record["connected"] as? Bool, true)
    XCTAssertEqual(agent.state.connected, true)
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }

  func testARefusedSnapshotIsReportedAndTheGatewayKeepsWhatItHad() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let applier = RecordingApplier()
    let cache = try temporaryDirectory("cache")
    let (_, task) = try agent(plane, cache: cache, applier: applier)
    try await eventually("the first snapshot") { applier.lastBody == "one" }
    applier.refuse(with: ["hello.yaml:3:1: spec: something the gateway cannot serve"])
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    try await eventually("the refusal in status") {
      (try await self.gateways(plane).first?["lastError"] as? String)?.contains("cannot serve") == true
    }
    let cached = SnapshotCache(directory: cache).snapshot()
    XCTAssertTrue(
      cached?.manifests.values.contains { $0.document.text.contains("\"one\"") } == true,
      "the cache holds the snapshot that applied")
    applier.refuse(with: nil)
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "three"))
    try await eventually("the next change") { applier.lastBody == "three" }
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }

  func testAGatewayWithoutTheBootstrapTokenIsRefused() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let applier = RecordingApplier()
    let (agent, task) = try agent(plane, token: "not-the-token", applier: applier)
    try await eventually("the refusal") { agent.state.lastError?.contains("bootstrap token") == true }
    XCTAssertTrue(applier.snapshots.isEmpty)
    let records = try await gateways(plane)
    XCTAssertTrue(records.isEmpty)
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }

  /// A gateway whose cache holds `certificate` (and no token that works) gets nothing from the plane.
  private func assertRefused(
    certificate: String, key: String, file: StaticString = #filePath, line: UInt = #line
  )
    async throws
  {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let cache = try temporaryDirectory("cache")
    try certificate.write(toFile: cache + "/relay-client.pem", atomically: true, encoding: .utf8)
    try key.write(toFile: cache + "/relay-client-key.pem", atomically: true, encoding: .utf8)
    let applier = RecordingApplier()
    let (agent, task) = try agent(plane, cache: cache, token: "wrong", applier: applier)
    try await eventually("a failed attempt", file: file, line: line) { agent.state.lastError != nil }
    try await Task.sleep(for: .milliseconds(300))
    XCTAssertTrue(applier.snapshots.isEmpty, file: file, line: line)
    let records = try await gateways(plane)
    XCTAssertFalse(records.contains { $0["connected"] as? Bool == true }, file: file, line: line)
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }

  func testACertificateFromAnotherAuthorityIsRefused() async throws {
    // A certificate for the right identity, issued by an authority the plane does not know.
    let identity = GatewayIdentity(name: "edge-1", namespace: "edge", cluster: "east")
    let enrollment = try RelayCredentials.enrollment(for: identity)
    let forged = try RelayAuthority.make().issueClientCertificate(
      for: identity, requestDER: try enrollment.signingRequestDER(for: identity))
    try await assertRefused(certificate: try forged.serializeAsPEM().pemString, key: enrollment.keyPEM)
  }

  func testAMeshCertificateOpensNoRelay() async throws {
    // The gateway's own mesh identity, from the mesh CA: good on east-west listeners, not here.
    let mesh = try MeshAuthority.make().identity(
      for: GatewayIdentity(name: "edge-1", namespace: "edge", cluster: "east"))
    try await assertRefused(certificate: mesh.certificatePEM, key: mesh.keyPEM)
  }

  func testARevokedGatewayIsCutOffAndEnrolsAgainOnlyOnceReinstated() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let applier = RecordingApplier()
    let (agent, task) = try agent(plane, applier: applier)
    try await eventually("connected") { agent.state.connected }
    let revoked = try await plane.call(.POST, "/relay/v1/gateways/edge/edge-1/revoke?cluster=east")
    XCTAssertEqual(revoked.status, .ok, revoked.text)
    try await eventually("cut off") { try await self.gateways(plane).first?["connected"] as? Bool == false }
    try await eventually("refused again") { agent.state.lastError?.contains("revoked") == true }
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    try await Task.sleep(for: .milliseconds(500))
    XCTAssertNotEqual(applier.lastBody, "two")

    // Reinstated: the identity enrols again with the bootstrap token and catches up.
    let notRevoked = try await plane.call(.POST, "/relay/v1/gateways/edge/edge-2/reinstate?cluster=east")
    XCTAssertEqual(notRevoked.status, .notFound, notRevoked.text)
    let reinstated = try await plane.call(.POST, "/relay/v1/gateways/edge/edge-1/reinstate?cluster=east")
    XCTAssertEqual(reinstated.status, .ok, reinstated.text)
    try await eventually("enrolled again and caught up") { applier.lastBody == "two" }
    let serials = try await EnrollmentBook(file: plane.data.enrollmentFile).all().filter {
      $0.gateway == "edge/edge-1@east"
    }
    XCTAssertEqual(serials.count, 2, "a new certificate")
    XCTAssertEqual(serials.filter { $0.revoked }.count, 1, "the revoked one stays revoked")
    task.cancel()
    // The agent stops before the plane does: a reconnection racing the relay's shutdown is not what
    // these tests are about.
    _ = await task.value
    await plane.stop()
  }

  func testAGatewayStartedWithACacheSendsOnlyWhatChangedWhenItReconnects() async throws {
    let data = try temporaryDirectory("data")
    let plane = try await RunningPlane.start(dataDirectory: data)
    _ = try await plane.call(.PUT, Manifests.gatewayPath, body: Manifests.gateway)
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let cache = try temporaryDirectory("cache")
    let firstApplier = RecordingApplier()
    let (_, first) = try agent(plane, cache: cache, applier: firstApplier)
    try await eventually("the first snapshot") { firstApplier.lastBody == "one" }
    first.cancel()
    _ = await first.value
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    let applier = RecordingApplier()
    let (agent, second) = try agent(plane, cache: cache, applier: applier)
    XCTAssertEqual(
      agent.cachedSnapshot.virtualHosts.first?.spec.routes?.first?.directResponseAction?.body, "one",
      "starts from the cache")
    try await eventually("caught up") { applier.lastBody == "two" }
    XCTAssertEqual(applier.firstFlags, [false], "a cached snapshot is being served")
    second.cancel()
    await plane.stop()
  }
}
