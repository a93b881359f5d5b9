import Foundation
import NIOCore
import XCTest

@testable import PorticoProxy

/// The edge against hostile clients: smuggling attempts never reach the upstream as anything but one
/// unambiguous request, oversized heads are refused, and slow or idle connections are closed while other
/// clients keep being served.
final class EdgeHardeningTests: XCTestCase {
  var gateway: TestGateway!
  let recorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    let recorder = self.recorder
    gateway = try await TestGateway(
      upstreams: ["echo"], behaviours: ["echo": .init(recorder: recorder)],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "edge.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
      },
      configure: { options in
        options.http1Limits.headerTimeout = .milliseconds(800)
        options.http1Limits.idleTimeout = .seconds(2)
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  /// Each case: raw bytes, the statuses the client must see, and the requests (method, target, body size)
  /// the upstream must receive. A refused request reaches the upstream not at all.
  static let smuggling: [(name: String, raw: String, statuses: [Int], upstream: [(String, String, Int)])] = [
    (
      "CL.TE",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: edge.test\r\n\r\n",
      [400], []
    ),
    (
      "TE.CL",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\nHost: edge.test\r\n\r\n0\r\n\r\n",
      [400], []
    ),
    (
      "TE.TE obfuscated",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n0\r\n\r\n",
      [400], []
    ),
    (
      "TE with a tab before the value",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      [200], [("POST", "/a", 3)]
    ),
    (
      "TE with space before the colon",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", [400], []
    ),
    (
      "duplicate Content-Length",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc", [400], []
    ),
    (
      "0x chunk size",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
      [400], []
    ),
    (
      "negative chunk size",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n",
      [400], []
    ),
    ("bare LF", "GET /a HTTP/1.1\nHost: edge.test\n\n", [400], []),
    (
      "Connection naming Content-Length",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nConnection: content-length\r\nContent-Length: 43\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: edge.test\r\n\r\n",
      [200], [("POST", "/a", 43)]
    ),
    (
      "Connection naming Transfer-Encoding",
      "POST /a HTTP/1.1\r\nHost: edge.test\r\nConnection: transfer-encoding, host\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      [200], [("POST", "/a", 3)]
    ),
    ("NUL in a header", "GET /a HTTP/1.1\r\nHost: edge.test\r\nX-A: b\u{0}c\r\n\r\n", [400], []),
    ("obs-fold", "GET /a HTTP/1.1\r\nHost: edge.test\r\nX-A: b\r\n c\r\n\r\n", [400], []),
    (
      "chunked body arrives whole",
      "POST /c HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\n\r\n",
      [200], [("POST", "/c", 6)]
    ),
    (
      "pipelined pair in one packet",
      "GET /1 HTTP/1.1\r\nHost: edge.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: edge.test\r\n\r\n",
      [200, 200], [("GET", "/1", 0), ("GET", "/2", 0)]
    ),
    (
      "a good request, then a refused one",
      "GET /1 HTTP/1.1\r\nHost: edge.test\r\n\r\nGET /2 HTTP/1.1\r\nHost : edge.test\r\n\r\n",
      [200, 400], [("GET", "/1", 0)]
    ),
  ]

  func testSmugglingAttemptsAreRefusedOrForwardedExactlyOnce() throws {
    for (name, raw, statuses, upstream) in Self.smuggling {
      recorder.reset()
      let text = try RawClient.exchange(Array(raw.utf8), port: gateway.port)
      XCTAssertEqual(RawClient.statuses(text), statuses, "\(name): \(text)")
      let seen = recorder.requests.map { ($0.method, $0.uri, $0.bodyBytes) }
      XCTAssertEqual(seen.count, upstream.count, "\(name): upstream saw \(seen)")
      for (got, want) in zip(seen, upstream) {
        XCTAssertTrue(got == want, "\(name): upstream saw \(got), want \(want)")
      }
    }
  }

  func testOversizedHeadsAreRefused() throws {
    let longTarget = "GET /" + String(repeating: "a", count: 9_000) + " HTTP/1.1\r\nHost: edge.test\r\n\r\n"
    XCTAssertEqual(
      RawClient.statuses(try RawClient.exchange(Array(longTarget.utf8), port: gateway.port)), [414])
    let bigHeader =
      "GET / HTTP/1.1\r\nHost: edge.test\r\nX-Big: " + String(repeating: "b", count: 70_000) + "\r\n\r\n"
    XCTAssertEqual(
      RawClient.statuses(try RawClient.exchange(Array(bigHeader.utf8), port: gateway.port)), [431])
    let manyHeaders =
      "GET / HTTP/1.1\r\nHost: edge.test\r\n" + (0..<120).map { "X-\($0): v\r\n" }.joined() + "\r\n"
    XCTAssertEqual(
      RawClient.statuses(try RawClient.exchange(Array(manyHeaders.utf8), port: gateway.port)), [431])
    XCTAssertTrue(recorder.requests.isEmpty)
  }

  func testSlowlorisConnectionsAreClosedWhileOthersAreServed() async throws {
    let before = residentBytes()
    var sockets: [Int32] = []
    defer { for socket in sockets { close(socket) } }
    for _ in 0..<2_000 {
      let socket = try LoopbackSocket.connect(port: gateway.port)
      RawClient.sendAll(Array("GET / HTTP/1.1\r\nHost: edge.test\r\n".utf8), on: socket)
      sockets.append(socket)
    }
    // Trickle a header line to every connection now and then, as slowloris does, while real clients work.
    let started = Date()
    var served = 0
    while Date().timeIntervalSince(started) < 1.5 {
      for socket in sockets { RawClient.sendAll(Array("X-a: b\r\n".utf8), on: socket) }
      let response = try await send(.GET, gateway.base + "/ok", host: "edge.test")
      XCTAssertEqual(response.status, 200)
      served += 1
      try await Task.sleep(for: .milliseconds(100))
    }
    XCTAssertGreaterThan(served, 5)
    // Every trickling connection got 408 and was closed.
    var timedOut = 0
    for socket in sockets {
      let (text, closed) = RawClient.receive(on: socket, quiet: 2)
      if closed, RawClient.statuses(text) == [408] { timedOut += 1 }
    }
    XCTAssertEqual(timedOut, sockets.count)
    XCTAssertLessThan(residentBytes() - before, 64 << 20, "memory stays bounded")
    XCTAssertTrue(recorder.requests.allSatisfy { $0.uri == "/ok" })
  }

  func testIdleConnectionsAreClosed() throws {
    let socket = try LoopbackSocket.connect(port: gateway.port)
    defer { close(socket) }
    let started = Date()
    let (text, closed) = RawClient.receive(on: socket, quiet: 5)
    XCTAssertTrue(closed)
    XCTAssertEqual(text, "", "an idle connection is closed without a response")
    XCTAssertGreaterThan(Date().timeIntervalSince(started), 1.5)
  }

  func testConnectionsPastTheLimitAreClosedOnAccept() async throws {
    let limited = try await TestGateway(
      manifests: { _ in
        gatewayManifest()
          + virtualHost("edge.test", routes: "  - directResponseAction: {status: 200, body: ok}")
      },
      configure: { $0.maxConnections = 50 })
    defer { Task { await limited.stop() } }
    var sockets: [Int32] = []
    defer { for socket in sockets { close(socket) } }
    for _ in 0..<50 { sockets.append(try LoopbackSocket.connect(port: limited.port)) }
    // The gateway has taken all fifty once one of them is answered.
    let request = Array("GET / HTTP/1.1\r\nHost: edge.test\r\n\r\n".utf8)
    RawClient.sendAll(request, on: sockets[49])
    XCTAssertEqual(RawClient.statuses(RawClient.receive(on: sockets[49], quiet: 1).text), [200])
    let extra = try LoopbackSocket.connect(port: limited.port)
    defer { close(extra) }
    RawClient.sendAll(request, on: extra)
    let (text, closed) = RawClient.receive(on: extra, quiet: 2)
    XCTAssertTrue(closed, "the 51st connection is closed")
    XCTAssertEqual(text, "")
    // Room again once one closes.
    close(sockets.removeLast())
    try await Task.sleep(for: .milliseconds(200))
    XCTAssertEqual(RawClient.statuses(try RawClient.exchange(request, port: limited.port)), [200])
  }
}
