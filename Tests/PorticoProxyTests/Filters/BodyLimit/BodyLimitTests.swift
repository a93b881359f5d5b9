import Foundation
import XCTest

@testable import PorticoProxy

/// `maxRequestBodyBytes`: a body over the route's limit gets 413, whether its length is announced or
/// counted as it streams in, and never reaches the upstream whole; the limit is inherited like any option.
final class BodyLimitTests: XCTestCase {
  var gateway: TestGateway!
  let recorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"], behaviours: ["echo": .init(recorder: recorder)],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "limits.test",
            options: "  options: {trafficPolicy: {maxRequestBodyBytes: 1000}}",
            routes: """
                - matchers: [{uri: {prefix: /unlimited}}]
                  options: {maxRequestBodyBytes: 0}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  func testBodyWithinTheLimitIsForwarded() async throws {
    let response = try await send(
      .POST, gateway.base + "/upload", host: "limits.test", body: String(repeating: "a", count: 1000))
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.json["bodyBytes"] as? Int, 1000)
  }

  func testAnnouncedLengthOverTheLimitIs413() async throws {
    let response = try await send(
      .POST, gateway.base + "/upload", host: "limits.test", body: String(repeating: "a", count: 1001))
    XCTAssertEqual(response.status, 413)
    XCTAssertEqual(response.body, "request body too large\n")
    XCTAssertEqual(response.headers["connection"], ["close"], "the rest of the body is not read")
    XCTAssertEqual(recorder.requests, [], "nothing reached the upstream")
  }

  /// Chunked, so the gateway only finds out while the body streams through.
  func testStreamedBodyOverTheLimitIs413() async throws {
    let response = try await sendStreamed(
      .PUT, gateway.base + "/stream", host: "limits.test", pieces: 10, size: 300)
    XCTAssertEqual(response.status, 413)
    XCTAssertFalse(recorder.requests.contains { $0.bodyBytes > 1000 })
  }

  func testAChildRouteTurnsTheInheritedLimitOff() async throws {
    let response = try await send(
      .POST, gateway.base + "/unlimited", host: "limits.test", body: String(repeating: "a", count: 5000))
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.json["bodyBytes"] as? Int, 5000)
  }

  /// A client still sending the body it was refused can finish and read the 413: the gateway stops
  /// sending and reads and drops the rest, rather than closing on unread bytes, which would reset the
  /// connection under the response (RFC 9112 §9.6).
  func testARefusedBodyIsDrainedNotReset() throws {
    let socket = try LoopbackSocket.connect(port: gateway.port)
    defer { close(socket) }
    let head = "POST /upload HTTP/1.1\r\nHost: limits.test\r\nContent-Length: 200000\r\n\r\n"
    RawClient.sendAll(Array(head.utf8) + [UInt8](repeating: 97, count: 500), on: socket)
    Thread.sleep(forTimeInterval: 0.2)  // the 413 has been sent, and the gateway has stopped sending
    let piece = [UInt8](repeating: 97, count: 32 * 1024)
    for _ in 0..<3 {
      let sent = piece.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      XCTAssertEqual(sent, piece.count, "the rest of the body is accepted, not reset (errno \(errno))")
      Thread.sleep(forTimeInterval: 0.05)
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var ending: Int32 = 0
    while true {
      let count = recv(socket, &buffer, buffer.count, 0)
      if count > 0 {
        received += buffer[..<count]
        continue
      }
      ending = count == 0 ? 0 : errno
      break
    }
    let text = String(decoding: received, as: UTF8.self)
    XCTAssertTrue(text.hasPrefix("HTTP/1.1 413"), text)
    XCTAssertTrue(text.hasSuffix("request body too large\n"), text)
    XCTAssertEqual(ending, 0, "the response ends with an orderly close, not a reset")
  }

  /// A client waiting for `100 Continue` gets the 413 instead, and never has to send its body.
  func testExpectContinueGetsTheFinalStatusFirst() throws {
    let head =
      "POST /upload HTTP/1.1\r\nHost: limits.test\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
    let answer = try RawClient.exchange(Array(head.utf8), port: gateway.port)
    XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413"), answer)
    XCTAssertFalse(answer.contains("100 Continue"), answer)
  }
}
