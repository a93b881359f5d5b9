import Foundation
import XCTest

@testable import PorticoProxy

/// HTTP/2 from clients: cleartext with prior knowledge and over TLS by ALPN, many streams on one
/// connection, and a rapid-reset flood cut off without disturbing other clients.
final class HTTP2Tests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "h2.test",
            routes: """
                - matchers: [{uri: {prefix: /local}}]
                  directResponseAction: {status: 200, body: local}
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  func curl(_ arguments: String) throws -> String {
    try Shell.run("curl -sS --max-time 10 -H 'Host: h2.test' \(arguments)")
  }

  func testPriorKnowledgeCleartext() throws {
    let out = try curl(
      "--http2-prior-knowledge -w '\\n%{http_version} %{http_code}' \(gateway.base)/echo?x=1")
    let lines = out.split(separator: "\n")
    XCTAssertEqual(lines.last, "2 200", out)
    let echo = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
    XCTAssertEqual(echo?["path"] as? String, "/echo")
    XCTAssertEqual(echo?["query"] as? String, "x=1")
    XCTAssertEqual((echo?["headers"] as? [String: [String]])?["x-forwarded-proto"], ["http"])
    let local = try curl("--http2-prior-knowledge -w ' %{http_version}' \(gateway.base)/local")
    XCTAssertEqual(local, "local 2")
  }

  /// nghttp speaks HTTP/2 with prior knowledge and prints every frame it receives.
  func testNghttpSeesOneStreamPerRequest() throws {
    let out = try Shell.run(
      "nghttp -v -H 'host: h2.test' \(gateway.base)/echo \(gateway.base)/local 2>&1")
    XCTAssertEqual(out.components(separatedBy: ":status: 200").count - 1, 2, out)
    XCTAssertTrue(out.contains("recv DATA frame <length=5, flags=0x01"), "'local' ends its stream: \(out)")
    XCTAssertFalse(out.contains("RST_STREAM"), out)
  }

  func testRequestBodiesCrossOver() throws {
    let body = String(repeating: "x", count: 100_000)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("h2-body-\(UUID().uuidString)")
    try body.write(to: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: path) }
    for extra in ["", "-H 'Transfer-Encoding:'"] {
      let out = try curl(
        "--http2-prior-knowledge \(extra) --data-binary @\(path.path) \(gateway.base)/upload")
      let echo = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
      XCTAssertEqual(echo?["bodyBytes"] as? Int, 100_000, out)
      XCTAssertEqual(echo?["method"] as? String, "POST")
    }
    // Streamed from standard input: no content-length, so the body's length is known only at its end.
    let streamed = try Shell.run(
      "cat \(path.path) | curl -sS --max-time 10 -H 'Host: h2.test' --http2-prior-knowledge -T - \(gateway.base)/stream"
    )
    let echo = try JSONSerialization.jsonObject(with: Data(streamed.utf8)) as? [String: Any]
    XCTAssertEqual(echo?["bodyBytes"] as? Int, 100_000, streamed)
    XCTAssertEqual(echo?["method"] as? String, "PUT")
  }

  func testManyStreamsOnFewConnections() throws {
    let out = try Shell.run(
      "h2load -n 2000 -c 4 -m 20 -H 'host: h2.test' \(gateway.base)/local 2>&1")
    XCTAssertTrue(out.contains("2000 succeeded"), out)
    XCTAssertTrue(out.contains("status codes: 2000 2xx"), out)
  }

  func testRapidResetFloodIsCutOff() throws {
    let socket = try LoopbackSocket.connect(port: gateway.port)
    defer { close(socket) }
    var bytes = HTTP2Setup.preface
    bytes += [0, 0, 0, 0x4, 0, 0, 0, 0, 0]  // SETTINGS, empty
    let authority = Array("h2.test".utf8)
    // :method GET, :scheme http, :path /, then :authority as a literal.
    let block: [UInt8] = [0x82, 0x86, 0x84, 0x01, UInt8(authority.count)] + authority
    for index in 0..<1_000 {
      let stream = UInt32(2 * index + 1)
      let id: [UInt8] = [
        UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF),
      ]
      bytes += [0, 0, UInt8(block.count), 0x1, 0x5] + id + block  // HEADERS, END_STREAM | END_HEADERS
      bytes += [0, 0, 4, 0x3, 0] + id + [0, 0, 0, 0x8]  // RST_STREAM, CANCEL
    }
    RawClient.sendAll(bytes, on: socket)
    let (received, closed) = RawClient.receiveBytes(on: socket, quiet: 5)
    XCTAssertTrue(closed, "the flooding connection is closed")
    XCTAssertTrue(Self.containsGoAway(received), "with a GOAWAY first")
    // Everyone else is still served.
    XCTAssertEqual(try curl("--http2-prior-knowledge \(gateway.base)/local"), "local")
  }

  /// Walks the frames the server sent (after its preface-less start) looking for GOAWAY.
  static func containsGoAway(_ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset + 9 <= bytes.count {
      let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
      if bytes[offset + 3] == 0x7 { return true }
      offset += 9 + length
    }
    return false
  }
}
