import Foundation
import XCTest

@testable import PorticoProxy

/// WebSocket handshakes are forwarded, and after the upstream's 101 the connection carries frames both
/// ways until either side closes or the stream goes idle.
final class WebSocketTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "ws.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
      },
      configure: { $0.http1Limits.idleTimeout = .milliseconds(1_500) })
  }

  override func tearDown() async throws { await gateway.stop() }

  static let handshake =
    "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

  /// A client frame (masked, as RFC 6455 requires of clients) with a short payload.
  static func frame(_ opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
    let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    return [0x80 | opcode, 0x80 | UInt8(payload.count)] + mask
      + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
  }

  func open() throws -> (socket: Int32, response: String) {
    let socket = try LoopbackSocket.connect(port: gateway.port)
    RawClient.sendAll(Array(Self.handshake.utf8), on: socket)
    let (response, _) = RawClient.receive(on: socket, quiet: 0.5)
    return (socket, response)
  }

  func testEchoThroughTheGateway() throws {
    let (socket, response) = try open()
    defer { close(socket) }
    XCTAssertTrue(response.hasPrefix("HTTP/1.1 101"), response)
    let lowered = response.lowercased()
    XCTAssertTrue(lowered.contains("upgrade: websocket"), response)
    XCTAssertTrue(lowered.contains("connection: upgrade"), response)
    XCTAssertTrue(lowered.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), response)
    for message in ["hello", "through the gateway", "again"] {
      RawClient.sendAll(Self.frame(0x1, Array(message.utf8)), on: socket)
      let (bytes, _) = RawClient.receiveBytes(on: socket, quiet: 0.3)
      XCTAssertEqual(bytes.first, 0x81, "a final text frame")
      XCTAssertEqual(String(decoding: bytes.dropFirst(2), as: UTF8.self), message)
    }
    RawClient.sendAll(Self.frame(0x8, [0x03, 0xE8]), on: socket)
    let (closing, closed) = RawClient.receiveBytes(on: socket, quiet: 2)
    XCTAssertEqual(closing.first, 0x88, "the close frame comes back")
    XCTAssertTrue(closed, "and the gateway closes the connection after the upstream")
  }

  func testIdleStreamIsClosed() throws {
    let started = Date()
    let (socket, response) = try open()
    defer { close(socket) }
    XCTAssertTrue(response.hasPrefix("HTTP/1.1 101"), response)
    let (_, closed) = RawClient.receive(on: socket, quiet: 5)
    XCTAssertTrue(closed)
    // The idle timeout is 1.5 s, checked every 250 ms.
    XCTAssertGreaterThan(Date().timeIntervalSince(started), 1.2)
  }

  func testOtherUpgradesAreServedAsHTTP11() throws {
    let request =
      "GET /plain HTTP/1.1\r\nHost: ws.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    let text = try RawClient.exchange(Array(request.utf8), port: gateway.port)
    XCTAssertEqual(RawClient.statuses(text), [200], text)
    XCTAssertFalse(text.lowercased().contains("\"upgrade\""), "Upgrade is not forwarded: \(text)")
    XCTAssertFalse(text.lowercased().contains("http2-settings"), "nor the fields Connection names: \(text)")
  }
}
