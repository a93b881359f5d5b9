import Foundation
import XCTest

/// A three-member etcd cluster on loopback, started by a test (Debian's etcd-server) and stopped by it.
final class EtcdCluster: @unchecked Sendable {
  private var members: [Process] = []
  let clientURLs: [String]
  let folder: String

  /// `etcd://HOST:PORT,HOST:PORT,HOST:PORT`, as `portico mgmt --store` takes it.
  var storeURL: String {
    "etcd://" + clientURLs.map { $0.replacingOccurrences(of: "http://", with: "") }.joined(separator: ",")
  }

  init() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") else {
      throw XCTSkip("etcd is not installed (Debian: etcd-server); scripts/install-deps.sh installs it")
    }
    folder = try temporaryDirectory("etcd")
    let clients = try (0..<3).map { _ in try freePort() }
    let peers = try (0..<3).map { _ in try freePort() }
    clientURLs = clients.map { "http://127.0.0.1:\($0)" }
    let cluster = (0..<3).map { "m\($0)=http://127.0.0.1:\(peers[$0])" }.joined(separator: ",")
    for index in 0..<3 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
      process.arguments = [
        "--name", "m\(index)", "--data-dir", folder + "/m\(index)",
        "--listen-client-urls", clientURLs[index], "--advertise-client-urls", clientURLs[index],
        "--listen-peer-urls", "http://127.0.0.1:\(peers[index])",
        "--initial-advertise-peer-urls", "http://127.0.0.1:\(peers[index])",
        "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token",
        "portico-test",
      ]
      let log = folder + "/m\(index).log"
      FileManager.default.createFile(atPath: log, contents: nil)
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
      process.standardOutput = handle
      process.standardError = handle
      try process.run()
      members.append(process)
    }
  }

  /// Waits until the cluster answers writes.
  func waitUntilHealthy() async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
      let probe = Process()
      probe.executableURL = URL(fileURLWithPath: "/usr/bin/etcdctl")
      probe.arguments = ["--endpoints", clientURLs.joined(separator: ","), "put", "/portico-test/probe", "1"]
      probe.environment = ["ETCDCTL_API": "3"]
      probe.standardOutput = FileHandle.nullDevice
      probe.standardError = FileHandle.nullDevice
      try probe.run()
      probe.waitUntilExit()
      if probe.terminationStatus == 0 { return }
      try await Task.sleep(for: .milliseconds(200))
    }
    throw ProcessTestError("etcd did not become healthy; logs in \(folder)")
  }

  func stop() {
    for member in members where member.isRunning {
      member.terminate()
      member.waitUntilExit()
    }
    try? FileManager.default.removeItem(atPath: folder)
  }

  deinit { stop() }
}
