import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import PorticoProxy

/// A gateway under test with its own config folder, access log and demo upstreams, all on ephemeral
/// loopback ports.
final class TestGateway: @unchecked Sendable {
  let folder: URL
  let accessLogPath: String
  let gateway: Gateway
  private(set) var upstreams: [String: (channel: Channel, port: Int)] = [:]

  static let identity = GatewayIdentity(
    name: "test", namespace: "gateways", labels: ["app": "test"], ports: ["http": 0])

  /// `manifests` may use `{{port:NAME}}` for the port of the demo upstream named NAME, started first.
  init(
    upstreams names: [String] = [], behaviours: [String: DemoUpstream.Behaviour] = [:],
    manifests: (TestGateway) -> String, threads: Int = 1, watch: Bool = false,
    configure: (inout GatewayOptions) -> Void = { _ in }
  ) async throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "portico-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    accessLogPath = folder.appendingPathComponent("access.log").path
    var options = GatewayOptions(
      identity: Self.identity, configDirectory: folder.appendingPathComponent("config").path)
    try FileManager.default.createDirectory(
      atPath: options.configDirectory, withIntermediateDirectories: true)
    options.threads = threads
    options.adminPort = 0
    options.bindHost = "127.0.0.1"
    options.accessLog = .file(accessLogPath)
    options.watchInterval = watch ? .milliseconds(100) : nil
    options.drainTimeout = .seconds(5)
    configure(&options)
    var logger = Logger(label: "portico-test")
    logger.logLevel = .critical
    gateway = try Gateway(options: options, logger: logger)
    for name in names { try await startUpstream(name, behaviour: behaviours[name] ?? .init()) }
    try write(manifests(self))
    try await gateway.start()
  }

  func startUpstream(_ name: String, behaviour: DemoUpstream.Behaviour = .init()) async throws {
    let channel = try await DemoUpstream.start(name: name, port: 0, behaviour: behaviour)
    upstreams[name] = (channel, channel.localAddress!.port!)
  }

  func port(_ name: String) -> Int { upstreams[name]!.port }

  /// Replaces the configuration folder's manifest.
  func write(_ manifests: String, file: String = "config.yaml") throws {
    let url = URL(fileURLWithPath: gateway.options.configDirectory).appendingPathComponent(file)
    try manifests.write(to: url, atomically: true, encoding: .utf8)
  }

  var port: Int { gateway.boundPorts["http"]! }
  var adminPort: Int { gateway.adminPort! }
  var base: String { "http://127.0.0.1:\(port)" }

  /// The access log so far. A request's line is made just after its response, and written in a batch
  /// later, so this first lets the event loops finish what they were doing and hand their lines over.
  func accessLog() async -> [[String: Any]] {
    await gateway.flushAccessLog()
    let text = (try? String(contentsOfFile: accessLogPath, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  func stop() async {
    await gateway.shutdown()
    for (_, upstream) in upstreams { try? await upstream.channel.close() }
    try? FileManager.default.removeItem(at: folder)
  }
}

/// The virtual gateway every test configuration starts with: it serves hosts labelled `test: "yes"`.
func gatewayManifest() -> String {
  """
  apiVersion: portico.dev/v1
  kind: VirtualGateway
  metadata: {name: test, namespace: gateways}
  spec:
    ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: test}}}]}]
    connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {namespaces: ["*"], labels: {test: "yes"}}}]}}]
  ---

  """
}

/// A StaticDestination `name` in namespace `apps` with one endpoint per port.
func staticDestination(_ name: String, ports: [Int], extra: String = "") -> String {
  let endpoints = ports.map { "{address: 127.0.0.1, port: \($0)}" }.joined(separator: ", ")
  return """
    apiVersion: portico.dev/v1
    kind: StaticDestination
    metadata: {name: \(name), namespace: apps}
    spec: {endpoints: [\(endpoints)]\(extra)}
    ---

    """
}

/// A VirtualHost in namespace `apps` served by the test gateway.
func virtualHost(_ domain: String, options: String = "", routes: String) -> String {
  """
  apiVersion: portico.dev/v1
  kind: VirtualHost
  metadata: {name: \(domain.replacingOccurrences(of: ".", with: "-")), namespace: apps, labels: {test: "yes"}}
  spec:
    domains: [\(domain)]
  \(options)
    routes:
  \(routes)
  ---

  """
}

/// A shared HTTP client that does not follow redirects.
let testClient: HTTPClient = {
  var configuration = HTTPClient.Configuration(
    redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(30)))
  configuration.connectionPool = .init(
    idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
  return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

struct TestResponse {
  let status: Int
  let headers: HTTPHeaders
  let body: String

  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
  }

  /// A header the upstream received, from a demo upstream's echo.
  func upstreamHeader(_ name: String) -> [String]? {
    (json["headers"] as? [String: [String]])?[name]
  }
}

func send(
  _ method: HTTPMethod = .GET, _ url: String, host: String, headers: [(String, String)] = [],
  body: String? = nil
) async throws -> TestResponse {
  var request = HTTPClientRequest(url: url)
  request.method = method
  request.headers.add(name: "host", value: host)
  for (name, value) in headers { request.headers.add(name: name, value: value) }
  if let body { request.body = .bytes(ByteBuffer(string: body)) }
  let response = try await testClient.execute(request, timeout: .seconds(30))
  let bytes = try await response.body.collect(upTo: 16 << 20)
  return TestResponse(
    status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
}

/// Sends `count` GET requests at once (the `index`th to `url(index)`) and returns their statuses.
func sendConcurrently(count: Int, host: String, _ url: @escaping @Sendable (Int) -> String) async throws
  -> [Int]
{
  try await withThrowingTaskGroup(of: Int.self) { group in
    for index in 0..<count {
      group.addTask { try await send(.GET, url(index), host: host).status }
    }
    return try await group.reduce(into: [Int]()) { $0.append($1) }
  }
}

/// Sends a body of unknown length (chunked over HTTP/1.1), `pieces` pieces of `size` bytes each.
func sendStreamed(
  _ method: HTTPMethod, _ url: String, host: String, pieces: Int, size: Int
) async throws -> TestResponse {
  var request = HTTPClientRequest(url: url)
  request.method = method
  request.headers.add(name: "host", value: host)
  let body = AsyncStream<ByteBuffer> { continuation in
    for _ in 0..<pieces { continuation.yield(ByteBuffer(repeating: UInt8(ascii: "s"), count: size)) }
    continuation.finish()
  }
  request.body = .stream(body, length: .unknown)
  let response = try await testClient.execute(request, timeout: .seconds(30))
  let bytes = try await response.body.collect(upTo: 16 << 20)
  return TestResponse(
    status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
}

/// Resident memory of this process, in bytes.
func residentBytes() -> Int {
  guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
    let pages = Int(statm.split(separator: " ")[1])
  else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
