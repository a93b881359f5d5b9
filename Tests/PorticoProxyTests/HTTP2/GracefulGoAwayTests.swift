import Foundation
import XCTest

@testable import PorticoProxy

/// The second phase of a graceful HTTP/2 shutdown, driven frame by frame: a stream the client opens
/// after the final GOAWAY is not served, and does not cost the stream in flight its response.
final class GracefulGoAwayTests: XCTestCase {
  struct Frame {
    let type: UInt8
    let flags: UInt8
    let stream: UInt32
    let payload: [UInt8]
  }

  /// Every complete frame in `bytes` (the server sends no preface of its own).
  static func frames(_ bytes: [UInt8]) -> [Frame] {
    var frames: [Frame] = []
    var offset = 0
    while offset + 9 <= bytes.count {
      let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
      guard offset + 9 + length <= bytes.count else { break }
      let stream =
        UInt32(bytes[offset + 5] & 0x7F) << 24 | UInt32(bytes[offset + 6]) << 16 | UInt32(bytes[offset + 7])
        << 8
        | UInt32(bytes[offset + 8])
      frames.append(
        Frame(
          type: bytes[offset + 3], flags: bytes[offset + 4], stream: stream,
          payload: Array(bytes[(offset + 9)..<(offset + 9 + length)])))
      offset += 9 + length
    }
    return frames
  }

  static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
    [UInt8(payload.count >> 16), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count & 0xFF), type, flags]
      + [UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
      + payload
  }

  /// A GET for `path` on `h2.test`: `:method GET`, `:scheme http`, then `:path` and `:authority` as
  /// literals (HPACK, no Huffman coding).
  static func request(stream: UInt32, path: String, endStream: Bool = true) -> [UInt8] {
    let path = Array(path.utf8)
    let authority = Array("h2.test".utf8)
    let block: [UInt8] =
      [0x82, 0x86, 0x04, UInt8(path.count)] + path + [0x01, UInt8(authority.count)] + authority
    // END_HEADERS, and END_STREAM unless a body follows.
    return frame(type: 0x1, flags: endStream ? 0x5 : 0x4, stream: stream, payload: block)
  }

  func testStreamOpenedAfterTheFinalGoAwayDoesNotCloseTheConnection() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "h2.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
    }
    let socket = try LoopbackSocket.connect(port: gateway.port)
    defer { close(socket) }
    RawClient.sendAll(
      HTTP2Setup.preface + Self.frame(type: 0x4, flags: 0, stream: 0, payload: [])
        + Self.request(stream: 1, path: "/delay/800/slow"),
      on: socket)
    _ = RawClient.receiveBytes(on: socket, quiet: 0.3)  // the server's SETTINGS
    let stopped = Task { await gateway.stop() }

    // Phase one: GOAWAY and a PING; the answer to the PING brings phase two.
    var received: [Frame] = []
    for _ in 0..<20 where !received.contains(where: { $0.type == 0x6 && $0.flags & 0x1 == 0 }) {
      received += Self.frames(RawClient.receiveBytes(on: socket, quiet: 0.1).bytes)
    }
    let ping = try XCTUnwrap(received.first { $0.type == 0x6 && $0.flags & 0x1 == 0 }, "a PING")
    RawClient.sendAll(Self.frame(type: 0x6, flags: 0x1, stream: 0, payload: ping.payload), on: socket)
    for _ in 0..<20 where received.filter({ $0.type == 0x7 }).count < 2 {
      received += Self.frames(RawClient.receiveBytes(on: socket, quiet: 0.1).bytes)
    }
    let goAways = received.filter { $0.type == 0x7 }
    XCTAssertEqual(goAways.count, 2)
    XCTAssertEqual(
      goAways.last?.payload.prefix(4), [0, 0, 0, 1], "the final GOAWAY names stream 1 as the last")

    // A stream after the final GOAWAY, with a body: NIO ignores its HEADERS and reports its DATA as an
    // error, which must not take the connection (and stream 1) down with it.
    RawClient.sendAll(
      Self.request(stream: 3, path: "/late", endStream: false)
        + Self.frame(type: 0x0, flags: 0x1, stream: 3, payload: Array("late".utf8)),
      on: socket)
    let (rest, closed) = RawClient.receiveBytes(on: socket, quiet: 3)
    received += Self.frames(rest)
    // Stream 1 still gets its response: HEADERS with :status 200 (static table index 8), then its body.
    XCTAssertTrue(received.contains { $0.type == 0x1 && $0.stream == 1 && $0.payload.first == 0x88 })
    XCTAssertTrue(received.contains { $0.type == 0x0 && $0.stream == 1 && $0.flags & 0x1 == 1 })
    XCTAssertTrue(closed, "then the connection closes")
    await stopped.value
  }
}
