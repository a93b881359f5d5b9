import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PorticoManagement
import XCTest

/// A fresh folder under the system's temporary folder.
func temporaryDirectory(_ name: String = "plane") throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent(
    "portico-\(name)-\(UUID().uuidString)"
  ).path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// A management plane running in the test process on ephemeral loopback ports.
final class RunningPlane: Sendable {
  let server: ManagementServer
  let data: DataDirectory
  let apiPort: Int
  let relayPort: Int
  let task: Task<Void, any Error>

  static func start(store: (any ResourceStore)? = nil, dataDirectory: String? = nil) async throws
    -> RunningPlane
  {
    let folder = try dataDirectory ?? temporaryDirectory("data")
    var options = ManagementServer.Options()
    options.apiPort = 0
    options.relayPort = 0
    options.dataDirectory = DataDirectory(path: folder)
    let store = try store ?? SQLiteStore(path: folder + "/plane.db")
    var logger = Logger(label: "test.plane")
    logger.logLevel = .warning
    let server = try await ManagementServer.start(store: store, options: options, logger: logger)
    let task = Task { try await server.run() }
    var relayPort: Int?
    for _ in 0..<500 where relayPort == nil {
      relayPort = await server.relayPort
      if relayPort == nil { try await Task.sleep(for: .milliseconds(10)) }
    }
    return RunningPlane(
      server: server, data: options.dataDirectory, apiPort: try XCTUnwrap(server.apiPort),
      relayPort: try XCTUnwrap(relayPort), task: task)
  }

  private init(
    server: ManagementServer, data: DataDirectory, apiPort: Int, relayPort: Int, task: Task<Void, any Error>
  ) {
    self.server = server
    self.data = data
    self.apiPort = apiPort
    self.relayPort = relayPort
    self.task = task
  }

  var adminToken: String {
    (try? String(contentsOfFile: data.adminTokenFile, encoding: .utf8))?.trimmingCharacters(
      in: .whitespacesAndNewlines)
      ?? ""
  }

  func stop() async {
    server.stop()
    task.cancel()
    _ = await task.result
  }

  /// Calls the API with the admin token (or `token`).
  func call(
    _ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil,
    headers: [String: String] = [:]
  )
    async throws -> APIAnswer
  {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(apiPort)\(path)")
    request.method = method
    request.headers.add(name: "authorization", value: "Bearer \(token ?? adminToken)")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 16 << 20)
    return APIAnswer(status: response.status, text: String(buffer: bytes))
  }
}

struct APIAnswer {
  var status: HTTPResponseStatus
  var text: String

  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
  }
}

/// Polls until `condition` holds, or fails the test after `timeout`.
func eventually(
  _ what: String, timeout: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line,
  _ condition: () async throws -> Bool
) async throws {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(25))
  }
  XCTFail("timed out waiting for \(what)", file: file, line: line)
}

/// Manifests of one small configuration: a VirtualGateway for gateways labelled `gateway: edge`, and a
/// VirtualHost answering `GET /hello` with `body`.
enum Manifests {
  static let gatewayPath = "/apis/portico.dev/v1/namespaces/edge/virtualgateways/edge"
  static let hostPath = "/apis/portico.dev/v1/namespaces/edge/virtualhosts/hello"

  static let gateway = """
    apiVersion: portico.dev/v1
    kind: VirtualGateway
    metadata:
      name: edge
      namespace: edge
    spec:
      options:
        bindAddress: 127.0.0.1
      ingressGatewaySelectors:
      - portName: http
        destinationSelectors:
        - kubeServiceMatcher:
            labels: {gateway: edge}
            namespaces: ["*"]
      connectionHandlers:
      - http:
          routeConfig:
          - virtualHostSelector:
              namespaces: [edge]

    """

  static func host(body: String, extra: String = "") -> String {
    """
    apiVersion: portico.dev/v1
    kind: VirtualHost
    metadata:
      name: hello
      namespace: edge
    spec:
      domains: ["*"]
      routes:
      - name: hello
        matchers:
        - uri: {exact: /hello}
        directResponseAction: {status: 200, body: "\(body)"\(extra)}

    """
  }
}
