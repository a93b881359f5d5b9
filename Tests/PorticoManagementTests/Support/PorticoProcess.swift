import AsyncHTTPClient
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A `portico` process started by a test, its output in a file the test reads.
final class PorticoProcess: @unchecked Sendable {
  /// The binary `swift build` made (or `PORTICO_BINARY`).
  static var binary: String {
    if let path = ProcessInfo.processInfo.environment["PORTICO_BINARY"] { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/portico").path
  }

  let process = Process()
  let logFile: URL

  /// Runs `portico ARGUMENTS` in `directory`, inside the network namespace `namespace` when one is given.
  init(_ arguments: [String], directory: String, name: String, namespace: String? = nil) throws {
    logFile = URL(fileURLWithPath: directory).appendingPathComponent(
      "\(name)-\(UUID().uuidString.prefix(6)).log")
    FileManager.default.createFile(atPath: logFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: logFile)
    if let namespace {
      process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
      process.arguments = ["netns", "exec", namespace, Self.binary] + arguments
    } else {
      process.executableURL = URL(fileURLWithPath: Self.binary)
      process.arguments = arguments
    }
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
  }

  var output: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

  /// Waits for a line of output containing every one of `fragments`, and returns it.
  @discardableResult
  func waitForLine(containing fragments: String..., timeout: Duration = .seconds(20)) async throws -> String {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if let line = output.split(separator: "\n").first(where: { line in
        fragments.allSatisfy { line.contains($0) }
      }) {
        return String(line)
      }
      guard process.isRunning else { break }
      try await Task.sleep(for: .milliseconds(25))
    }
    throw ProcessTestError(
      "no line with \(fragments) from \(process.arguments?.first ?? "") ; output:\n\(output)")
  }

  /// Runs to the end; returns the exit status.
  func wait() async -> Int32 {
    while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    return process.terminationStatus
  }

  func terminate() async {
    guard process.isRunning else { return }
    process.terminate()
    _ = await wait()
  }

  /// SIGKILL: no chance to say goodbye.
  func kill() async {
    guard process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGKILL)
    _ = await wait()
  }

  deinit { if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) } }
}

struct ProcessTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs a tool to its end; its output (standard output and error together, trimmed), or an error with it
/// when the tool fails.
@discardableResult
func runTool(_ executable: String, _ arguments: [String]) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let output = Pipe()
  process.standardOutput = output
  process.standardError = output
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  guard process.terminationStatus == 0 else {
    throw ProcessTestError("\(executable) \(arguments.joined(separator: " ")): \(text)")
  }
  return text
}

/// A loopback port nothing listens on right now.
func freePort() throws -> Int {
  let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(socket) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
  }
  guard bound == 0 else { throw ProcessTestError("cannot bind a probe socket") }
  _ = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
  }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// The port a line like `... address=[IPv4]127.0.0.1/127.0.0.1:PORT ...` names.
func listeningPort(in line: String) -> Int? {
  guard let range = line.range(of: "127.0.0.1:") else { return nil }
  return Int(line[range.upperBound...].prefix { $0.isNumber })
}

/// GETs `http://127.0.0.1:PORT/hello`, returning the body, or nil when nothing answered 200.
func hello(port: Int) async -> String? {
  let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/hello")
  guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)),
    response.status == .ok,
    let body = try? await response.body.collect(upTo: 1 << 20)
  else { return nil }
  return String(buffer: body)
}
