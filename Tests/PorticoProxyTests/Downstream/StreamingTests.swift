import AsyncHTTPClient
import Foundation
import NIOCore
import XCTest

@testable import PorticoProxy

/// Bodies stream through with flat memory, and a slow client slows the upstream instead of filling the
/// gateway's memory.
final class StreamingTests: XCTestCase {
  static let size = 1 << 30
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "stream.test",
          routes:
            "  - {options: {requestTimeout: 0s}, routeAction: {destinations: [{staticDestination: {name: echo}}]}}"
        )
    }
  }

  override func tearDown() async throws { await gateway.stop() }

  func testLargeDownloadStreamsWithFlatMemory() async throws {
    let before = residentBytes()
    var request = HTTPClientRequest(url: gateway.base + "/bytes/\(Self.size)")
    request.headers.add(name: "host", value: "stream.test")
    let response = try await testClient.execute(request, timeout: .seconds(120))
    XCTAssertEqual(response.status.code, 200)
    var received = 0
    var peak = before
    for try await chunk in response.body {
      received += chunk.readableBytes
      if received % (32 << 20) < chunk.readableBytes { peak = max(peak, residentBytes()) }
    }
    XCTAssertEqual(received, Self.size)
    XCTAssertLessThan(peak - before, 50 << 20, "resident memory grew by \((peak - before) >> 20) MiB")
  }

  func testLargeUploadStreamsWithFlatMemory() async throws {
    let before = residentBytes()
    let chunk = ByteBuffer(repeating: UInt8(ascii: "u"), count: 64 * 1024)
    let chunks = Self.size / chunk.readableBytes
    let peak = PeakMemory(start: before)
    let body = AsyncStream<ByteBuffer> { continuation in
      for index in 0..<chunks {
        if index % 512 == 0 { peak.sample() }
        continuation.yield(chunk)
      }
      continuation.finish()
    }
    var request = HTTPClientRequest(url: gateway.base + "/upload")
    request.method = .POST
    request.headers.add(name: "host", value: "stream.test")
    request.body = .stream(body, length: .known(Int64(Self.size)))
    let response = try await testClient.execute(request, timeout: .seconds(120))
    let echoed = try await response.body.collect(upTo: 1 << 20)
    let json = try JSONSerialization.jsonObject(with: Data(echoed.readableBytesView)) as? [String: Any]
    XCTAssertEqual(json?["bodyBytes"] as? Int, Self.size)
    XCTAssertLessThan(
      peak.value - before, 50 << 20, "resident memory grew by \((peak.value - before) >> 20) MiB")
  }

  /// A raw client that reads 64 KiB at a time with pauses: the gateway must not take in the upstream's
  /// whole response on its behalf.
  func testSlowReaderDoesNotMakeTheGatewayBuffer() async throws {
    let size = 128 << 20
    let port = gateway.port
    let before = residentBytes()
    let (received, peak) = try await Task.detached {
      try SlowReader.download(port: port, host: "stream.test", path: "/bytes/\(size)", pauseEvery: 1 << 20)
    }.value
    XCTAssertGreaterThan(received, size)
    XCTAssertLessThan(peak - before, 50 << 20, "resident memory grew by \((peak - before) >> 20) MiB")
  }
}

final class ConnectionReuseAfterSlowClientTests: XCTestCase {
  /// A slow client leaves the upstream connection's reads held when the response ends; the pool must not
  /// hand it to the next request that way.
  func testAConnectionUsedByASlowClientServesTheNextRequests() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "reuse.test",
          routes:
            "  - {options: {requestTimeout: 2s}, routeAction: {destinations: [{staticDestination: {name: echo}}]}}"
        )
    }
    addTeardownBlock { await gateway.stop() }
    let port = gateway.port
    for _ in 0..<3 {
      _ = try await Task.detached {
        try SlowReader.download(port: port, host: "reuse.test", path: "/bytes/6000000", pauseEvery: 256 << 10)
      }.value
      for _ in 0..<3 {
        let response = try await send(.GET, gateway.base + "/quick", host: "reuse.test")
        XCTAssertEqual(response.status, 200)
      }
    }
  }
}

final class SlowUpstreamTests: XCTestCase {
  /// A client uploading fast to an upstream that reads slowly: the gateway stops reading from the client
  /// instead of queueing the body in memory.
  func testSlowUpstreamReaderMakesTheGatewayStopReading() async throws {
    let gateway = try await TestGateway(
      upstreams: ["sink"], behaviours: ["sink": .init(readPause: .milliseconds(5))]
    ) { gateway in
      gatewayManifest() + staticDestination("sink", ports: [gateway.port("sink")])
        + virtualHost(
          "slow.test",
          routes:
            "  - {options: {requestTimeout: 0s}, routeAction: {destinations: [{staticDestination: {name: sink}}]}}"
        )
    }
    addTeardownBlock { await gateway.stop() }
    let size = 160 << 20
    let chunk = ByteBuffer(repeating: UInt8(ascii: "s"), count: 64 * 1024)
    let before = residentBytes()
    let peak = PeakMemory(start: before)
    let sampler = Task {
      while !Task.isCancelled {
        peak.sample()
        try? await Task.sleep(for: .milliseconds(20))
      }
    }
    let body = AsyncStream<ByteBuffer> { continuation in
      for _ in 0..<(size / chunk.readableBytes) { continuation.yield(chunk) }
      continuation.finish()
    }
    var request = HTTPClientRequest(url: gateway.base + "/upload")
    request.method = .POST
    request.headers.add(name: "host", value: "slow.test")
    request.body = .stream(body, length: .unknown)
    let response = try await testClient.execute(request, timeout: .seconds(300))
    let echoed = try await response.body.collect(upTo: 1 << 20)
    sampler.cancel()
    let json = try JSONSerialization.jsonObject(with: Data(echoed.readableBytesView)) as? [String: Any]
    XCTAssertEqual(json?["bodyBytes"] as? Int, size, "a chunked upload arrives whole")
    XCTAssertLessThan(
      peak.value - before, 50 << 20, "resident memory grew by \((peak.value - before) >> 20) MiB")
  }

  func testExpectContinueIsAnsweredByTheGateway() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "expect.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
    }
    addTeardownBlock { await gateway.stop() }
    let port = gateway.port
    let exchange = try await Task.detached {
      try RawHTTP.expectContinue(port: port, host: "expect.test", body: "hello")
    }.value
    XCTAssertTrue(exchange.interim.hasPrefix("HTTP/1.1 100 Continue"), exchange.interim)
    XCTAssertTrue(exchange.final.hasPrefix("HTTP/1.1 200"), exchange.final)
    XCTAssertTrue(exchange.final.contains("\"bodyBytes\":5"), exchange.final)
    XCTAssertFalse(exchange.final.lowercased().contains("\"expect\""), "Expect is not forwarded")
  }
}

enum RawHTTP {
  /// Sends headers with `Expect: 100-continue`, waits for the interim response, then sends the body.
  static func expectContinue(port: Int, host: String, body: String) throws -> (interim: String, final: String)
  {
    let socket = try LoopbackSocket.connect(port: port)
    defer { close(socket) }
    func sendText(_ text: String) { _ = text.withCString { send(socket, $0, strlen($0), 0) } }
    func receiveText() -> String {
      var buffer = [UInt8](repeating: 0, count: 16 * 1024)
      let count = recv(socket, &buffer, buffer.count, 0)
      return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
    sendText(
      "POST /expect HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n"
    )
    let interim = receiveText()
    sendText(body)
    var final = receiveText()
    if !final.contains("bodyBytes") { final += receiveText() }
    return (interim, final)
  }
}

/// The highest resident memory seen.
final class PeakMemory: @unchecked Sendable {
  private let lock = NSLock()
  private var peak: Int

  init(start: Int) { peak = start }

  func sample() {
    let now = residentBytes()
    lock.lock()
    peak = max(peak, now)
    lock.unlock()
  }

  var value: Int {
    sample()
    lock.lock()
    defer { lock.unlock() }
    return peak
  }
}

/// A blocking HTTP/1.1 client over a plain socket, reading slowly.
enum SlowReader {
  /// True when something accepts connections on the loopback port.
  static func canConnect(port: Int) -> Bool {
    guard let socket = try? LoopbackSocket.connect(port: port) else { return false }
    close(socket)
    return true
  }

  /// Downloads `path` reading 64 KiB at a time, pausing 20 ms after each `pauseEvery` bytes; returns the
  /// bytes received (head included) and the peak resident memory seen.
  static func download(port: Int, host: String, path: String, pauseEvery: Int) throws -> (Int, Int) {
    let socket = try LoopbackSocket.connect(port: port, receiveBuffer: 64 * 1024)
    defer { close(socket) }
    let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(socket, $0, strlen($0), 0) }
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var total = 0
    var sincePause = 0
    var peak = residentBytes()
    while true {
      let count = recv(socket, &buffer, buffer.count, 0)
      if count <= 0 { break }
      total += count
      sincePause += count
      if sincePause >= pauseEvery {
        sincePause = 0
        peak = max(peak, residentBytes())
        usleep(20_000)
      }
    }
    return (total, peak)
  }
}

/// Blocking TCP sockets to 127.0.0.1, for tests that need byte-level control of a client.
enum LoopbackSocket {
  /// A connected socket; the caller closes it. `receiveBuffer` shrinks the kernel's buffer so that a slow
  /// reader is felt sooner.
  static func connect(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw POSIXError(.EIO) }
    if var size = receiveBuffer {
      setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      close(socket)
      throw POSIXError(.ECONNREFUSED)
    }
    return socket
  }
}
