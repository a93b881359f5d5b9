import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PorticoManagement
import XCTest

final class APITests: XCTestCase {
  func testEveryCallButHealthNeedsTheAdminToken() async throws {
    let plane = try await RunningPlane.start()
    let path = "/apis/portico.dev/v1/virtualhosts"
    let missing = try await plane.call(.GET, path, token: "")
    XCTAssertEqual(missing.status, .unauthorized)
    let wrong = try await plane.call(.GET, path, token: String(plane.adminToken.reversed()))
    XCTAssertEqual(wrong.status, .unauthorized)
    let right = try await plane.call(.GET, path)
    XCTAssertEqual(right.status, .ok)
    let health = try await plane.call(.GET, "/healthz", token: "")
    XCTAssertEqual(health.status, .ok)
    await plane.stop()
  }

  func testThePageListsGatewaysAndResourcesBehindTheTokenAsABasicPassword() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "<one>"))
    let anonymous = try await plane.call(.GET, "/", token: "")
    XCTAssertEqual(anonymous.status, .unauthorized)
    let basic = Data("admin:\(plane.adminToken)".utf8).base64EncodedString()
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(plane.apiPort)/")
    request.headers.add(name: "authorization", value: "Basic \(basic)")
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    XCTAssertEqual(response.status, .ok)
    let page = String(buffer: try await response.body.collect(upTo: 1 << 20))
    XCTAssertTrue(page.contains("edge/hello") && page.contains("<h2>Gateways</h2>"), page)
    await plane.stop()
  }

  func testFirstStartWritesTokensAndRelayCAAndLaterStartsReuseThem() async throws {
    let data = try temporaryDirectory("data")
    let first = try await RunningPlane.start(dataDirectory: data)
    let token = first.adminToken
    let ca = try String(contentsOfFile: first.data.relayCAFile, encoding: .utf8)
    await first.stop()
    XCTAssertEqual(token.count, 64)
    XCTAssertTrue(ca.contains("BEGIN CERTIFICATE"))
    let second = try await RunningPlane.start(dataDirectory: data)
    XCTAssertEqual(second.adminToken, token)
    XCTAssertEqual(try String(contentsOfFile: second.data.relayCAFile, encoding: .utf8), ca)
    await second.stop()
  }

  func testPutCreatesThenUpdatesAndCountsGenerations() async throws {
    let plane = try await RunningPlane.start()
    let created = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    XCTAssertEqual(created.status, .created, created.text)
    let metadata = try XCTUnwrap(created.json["metadata"] as? [String: Any])
    XCTAssertEqual(metadata["generation"] as? Int, 1)
    let again = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    XCTAssertEqual(again.status, .ok)
    XCTAssertEqual(
      (again.json["metadata"] as? [String: Any])?["generation"] as? Int, 1, "same text, same generation")
    let changed = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    XCTAssertEqual((changed.json["metadata"] as? [String: Any])?["generation"] as? Int, 2)
    let read = try await plane.call(.GET, Manifests.hostPath)
    let spec = try XCTUnwrap(read.json["spec"] as? [String: Any])
    let route = try XCTUnwrap((spec["routes"] as? [[String: Any]])?.first)
    XCTAssertEqual((route["directResponseAction"] as? [String: Any])?["body"] as? String, "two")
    XCTAssertEqual(
      (route["directResponseAction"] as? [String: Any])?["status"] as? Int, 200, "numbers stay numbers")
    let list = try await plane.call(.GET, "/apis/portico.dev/v1/namespaces/edge/virtualhosts")
    XCTAssertEqual((list.json["items"] as? [Any])?.count, 1)
    await plane.stop()
  }

  func testAManifestThatDoesNotValidateIsRefusedWithFileLineAndFieldAndNothingIsStored() async throws {
    let plane = try await RunningPlane.start()
    let bad = Manifests.host(body: "x").replacingOccurrences(of: "body:", with: "bodyy:")
    let answer = try await plane.call(
      .PUT, Manifests.hostPath, body: bad,
      headers: ["x-portico-source": "team/hello.yaml", "x-portico-line": "7"])
    XCTAssertEqual(answer.status, .unprocessableEntity)
    let message = answer.json["message"] as? String ?? ""
    // The route's action is on the document's 12th line, so the file's 18th.
    XCTAssertTrue(
      message.contains("team/hello.yaml:18:")
        && message.contains("spec.routes[0].directResponseAction.bodyy"),
      message)
    let causes = (answer.json["details"] as? [String: Any])?["causes"] as? [[String: Any]]
    XCTAssertEqual(causes?.first?["line"] as? Int, 18)
    let read = try await plane.call(.GET, Manifests.hostPath)
    XCTAssertEqual(read.status, .notFound)
    await plane.stop()
  }

  func testAManifestForAnotherResourceThanThePathIsRefused() async throws {
    let plane = try await RunningPlane.start()
    let answer = try await plane.call(
      .PUT, "/apis/portico.dev/v1/namespaces/edge/virtualhosts/other", body: Manifests.host(body: "x"))
    XCTAssertEqual(answer.status, .unprocessableEntity)
    XCTAssertTrue(answer.text.contains("the request names"), answer.text)
    await plane.stop()
  }

  func testAStaleResourceVersionConflicts() async throws {
    let plane = try await RunningPlane.start()
    let created = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let version = try XCTUnwrap((created.json["metadata"] as? [String: Any])?["resourceVersion"] as? String)
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    let stale = Manifests.host(body: "three").replacingOccurrences(
      of: "  namespace: edge\n", with: "  namespace: edge\n  resourceVersion: \"\(version)\"\n")
    let answer = try await plane.call(.PUT, Manifests.hostPath, body: stale)
    XCTAssertEqual(answer.status, .conflict, answer.text)
    let create = try await plane.call(
      .POST, "/apis/portico.dev/v1/namespaces/edge/virtualhosts", body: Manifests.host(body: "four"))
    XCTAssertEqual(create.status, .conflict, "POST creates only")
    await plane.stop()
  }

  func testTranslationProblemsAreStoredAndShownInStatus() async throws {
    let plane = try await RunningPlane.start()
    let host = Manifests.host(body: "x").replacingOccurrences(
      of: "directResponseAction: {status: 200, body: \"x\"}",
      with: "routeAction: {destinations: [{staticDestination: {name: missing}}]}")
    let answer = try await plane.call(.PUT, Manifests.hostPath, body: host)
    XCTAssertEqual(answer.status, .created, answer.text)
    let status = try await plane.call(.GET, Manifests.hostPath + "/status")
    XCTAssertEqual(status.json["state"] as? String, "Invalid")
    let errors = status.json["errors"] as? [String] ?? []
    XCTAssertTrue(errors.contains { $0.contains("missing") }, "\(errors)")
    await plane.stop()
  }

  func testDeleteRemovesAndThenNotFound() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "x"))
    let deleted = try await plane.call(.DELETE, Manifests.hostPath)
    XCTAssertEqual(deleted.status, .ok)
    let again = try await plane.call(.DELETE, Manifests.hostPath)
    XCTAssertEqual(again.status, .notFound)
    await plane.stop()
  }

  func testWatchStreamsEveryChangeWithItsResourceVersion() async throws {
    let plane = try await RunningPlane.start()
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "one"))
    let lines = WatchLines(
      port: plane.apiPort, token: plane.adminToken, path: "/apis/portico.dev/v1/virtualhosts?watch=true")
    try await eventually("the existing host as ADDED") { lines.received.count >= 1 }
    _ = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "two"))
    _ = try await plane.call(.DELETE, Manifests.hostPath)
    try await eventually("MODIFIED and DELETED") { lines.received.count >= 3 }
    let types = lines.received.map { $0["type"] as? String ?? "" }
    XCTAssertEqual(types, ["ADDED", "MODIFIED", "DELETED"])
    let versions = lines.received.compactMap {
      Int(
        (($0["object"] as? [String: Any])?["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? ""
      )
    }
    XCTAssertEqual(versions, versions.sorted())
    lines.cancel()
    await plane.stop()
  }

  func testSecretsAreServedWholeOnlyWithTheToken() async throws {
    let plane = try await RunningPlane.start()
    let secret = """
      apiVersion: v1
      kind: Secret
      metadata: {name: key, namespace: edge}
      type: Opaque
      stringData: {api-key: sesame}

      """
    let path = "/api/v1/namespaces/edge/secrets/key"
    let created = try await plane.call(.PUT, path, body: secret)
    XCTAssertEqual(created.status, .created, created.text)
    let anonymous = try await plane.call(.GET, path, token: "nope")
    XCTAssertEqual(anonymous.status, .unauthorized)
    XCTAssertFalse(anonymous.text.contains("sesame"))
    await plane.stop()
  }

  func testAFolderStoreIsReadOnlyAndFollowsEditsToTheFolder() async throws {
    let folder = try temporaryDirectory("folder")
    try Manifests.gateway.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
    let plane = try await RunningPlane.start(
      store: FolderStore(directory: folder, interval: .milliseconds(50)))
    let refused = try await plane.call(.PUT, Manifests.hostPath, body: Manifests.host(body: "x"))
    XCTAssertEqual(refused.status, .methodNotAllowed)
    XCTAssertTrue(refused.text.contains("read-only"), refused.text)
    let gateway = try await plane.call(.GET, Manifests.gatewayPath)
    XCTAssertEqual(gateway.status, .ok)
    try Manifests.host(body: "x").write(toFile: folder + "/host.yaml", atomically: true, encoding: .utf8)
    try await eventually("the new file's host") {
      try await plane.call(.GET, Manifests.hostPath).status == .ok
    }
    await plane.stop()
  }

  func testTheSQLiteStoreKeepsResourcesAndStampsAcrossRestarts() async throws {
    let path = try temporaryDirectory("sqlite") + "/plane.db"
    let id = ResourceID(.virtualHost, namespace: "edge", name: "hello")
    let written = try await SQLiteStore(path: path).put(
      id, document: ManifestDocument(source: "hello.yaml", firstLine: 3, text: Manifests.host(body: "x")),
      expectedVersion: nil)
    let (objects, revision) = try await SQLiteStore(path: path).load()
    XCTAssertEqual(objects, [written])
    XCTAssertEqual(revision, Int64(written.stamp.resourceVersion))
  }
}

/// Reads a watch's JSON lines in the background.
final class WatchLines: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [[String: Any]] = []
  private var task: Task<Void, Never>?

  init(port: Int, token: String, path: String) {
    task = Task {
      var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
      request.headers.add(name: "authorization", value: "Bearer \(token)")
      guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(60)) else {
        return
      }
      var pending = ""
      do {
        for try await chunk in response.body {
          pending += String(buffer: chunk)
          while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline])
            pending = String(pending[pending.index(after: newline)...])
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
              lock.withLock { lines.append(object) }
            }
          }
        }
      } catch {}
    }
  }

  var received: [[String: Any]] { lock.withLock { lines } }

  func cancel() { task?.cancel() }
}
