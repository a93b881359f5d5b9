import Foundation
import XCTest

/// A small HTTP service of a test's own, run by `python3` on a free loopback port: started, waited for
/// until it listens, and killed.
final class PythonService: @unchecked Sendable {
  let port: Int
  private let process = Process()
  /// What the service wrote to standard error (`http.server` logs each request there).
  let logPath: String

  /// Runs `python3 ARGUMENTS... PORT`, or `script` (written to a file) with the port as its argument; on
  /// `port`, or a free one.
  init(script: String? = nil, arguments: [String] = [], in directory: URL? = nil, port: Int? = nil)
    async throws
  {
    if let port { self.port = port } else { self.port = try await closedPort() }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("python-service-\(self.port)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var command = arguments
    if let script {
      let file = folder.appendingPathComponent("service.py")
      try script.write(to: file, atomically: true, encoding: .utf8)
      command = [file.path]
    }
    logPath = folder.appendingPathComponent("stderr.log").path
    FileManager.default.createFile(atPath: logPath, contents: nil)
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + command + [String(self.port)]
    process.currentDirectoryURL = directory
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    try process.run()
    try await waitUntilListening()
  }

  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  private func waitUntilListening() async throws {
    for _ in 0..<200 {
      if let socket = try? LoopbackSocket.connect(port: port) {
        close(socket)
        return
      }
      try await Task.sleep(for: .milliseconds(25))
    }
    throw ServiceFailure(description: "python3 \(process.arguments ?? []) did not listen on \(port): \(log)")
  }

  /// SIGKILL: the service may inherit a signal mask that blocks SIGTERM. Polled: `waitUntilExit` waits on
  /// a run loop an async test's thread does not run.
  func stop() async {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
    while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
  }

  struct ServiceFailure: Error, CustomStringConvertible {
    let description: String
  }
}

extension Shell {
  /// Runs `command` with `/bin/sh` and returns its output, polling for its end: `waitUntilExit` waits on a
  /// run loop an async test's thread does not run, and can wait for ever there.
  static func runPolling(_ command: String) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("shell-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    try handle.close()
    let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    guard process.terminationStatus == 0 else {
      throw Failure(status: process.terminationStatus, output: text)
    }
    return text
  }
}
