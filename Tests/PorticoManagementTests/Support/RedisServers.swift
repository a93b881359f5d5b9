import Foundation
import XCTest

/// Redis servers the tests start on ephemeral loopback ports and stop: one, or three masters made into a
/// Redis Cluster with `redis-cli --cluster create`. Skipped with a clear message where Redis is missing.
final class RedisServer: @unchecked Sendable {
  let port: Int
  let directory: String
  private var process: Process?

  var address: String { "127.0.0.1:\(port)" }

  init(port: Int? = nil, cluster: Bool = false) throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else {
      throw XCTSkip(
        "redis-server is not installed (Debian: redis-server); scripts/install-deps.sh installs it")
    }
    // A cluster node also listens on PORT + 10000 (its bus): both must be free and below 65536.
    self.port = try port ?? (cluster ? freeClusterPort() : freePort())
    directory = NSTemporaryDirectory() + "portico-redis-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    self.cluster = cluster
    try start()
  }

  private let cluster: Bool

  /// Starts (or starts again, on the same port) and waits until it answers PING.
  func start() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
    var arguments = [
      "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory,
    ]
    if cluster {
      arguments += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf"]
    }
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    self.process = process
    for _ in 0..<200 {
      if (try? cli("PING")) == "PONG" { return }
      Thread.sleep(forTimeInterval: 0.025)
    }
    throw RedisServerFailure(description: "redis-server on port \(port) did not start")
  }

  /// Kills the server at once, as a crash would.
  func kill() {
    guard let process, process.isRunning else { return }
    process.interrupt()
    Foundation.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    self.process = nil
  }

  func stop() {
    kill()
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// `redis-cli -p PORT ARGS...`, its output without the trailing newline.
  @discardableResult
  func cli(_ arguments: String...) throws -> String {
    try runTool("/usr/bin/redis-cli", ["-p", String(port)] + arguments)
  }

}

/// Three masters, every slot assigned, `cluster_state:ok` on each.
final class RedisClusterServers: @unchecked Sendable {
  let nodes: [RedisServer]

  init() throws {
    nodes = try (0..<3).map { _ in try RedisServer(cluster: true) }
    let created = try runTool(
      "/usr/bin/redis-cli",
      ["--cluster", "create"] + nodes.map(\.address) + ["--cluster-replicas", "0", "--cluster-yes"])
    for _ in 0..<400 {
      if try nodes.allSatisfy({ try $0.cli("CLUSTER", "INFO").contains("cluster_state:ok") }) { return }
      Thread.sleep(forTimeInterval: 0.025)
    }
    throw RedisServerFailure(description: "the Redis Cluster did not form: \(created)")
  }

  var url: String { "redis-cluster://" + nodes[0].address }

  func stop() { for node in nodes { node.stop() } }
}

struct RedisServerFailure: Error, CustomStringConvertible {
  let description: String
}

/// A port whose cluster bus port (+10000) is free too.
func freeClusterPort() throws -> Int {
  for _ in 0..<100 {
    let port = Int.random(in: 20_000..<50_000)
    if isFree(port), isFree(port + 10_000) { return port }
  }
  throw RedisServerFailure(description: "no free port pair for a Redis Cluster node")
}

private func isFree(_ port: Int) -> Bool {
  let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(socket) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = UInt16(port).bigEndian
  return withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
    }
  }
}
