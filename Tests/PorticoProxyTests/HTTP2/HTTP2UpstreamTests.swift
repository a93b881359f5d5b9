import Foundation
import NIOSSL
import XCTest

@testable import PorticoProxy

/// Destinations with `protocol: HTTP2`: requests from HTTP/1.1 and HTTP/2 clients alike go upstream as
/// streams of shared HTTP/2 connections, cleartext (h2c) or over TLS (h2 by ALPN).
final class HTTP2UpstreamTests: XCTestCase {
  var certificates: TestCertificates!
  var gateway: TestGateway!

  override func setUp() async throws {
    let certificates = try TestCertificates()
    self.certificates = certificates
    try certificates.issue("upstream", commonName: "upstream.test", altNames: ["DNS:upstream.test"])
    let ca = certificates.path("ca.pem")
    gateway = try await TestGateway(
      upstreams: ["h2c", "h2", "http1-tls"],
      behaviours: [
        "h2c": .init(http2: true),
        "h2": .init(tls: try certificates.serverContext("upstream", alpn: ["h2"]), http2: true),
        "http1-tls": .init(tls: try certificates.serverContext("upstream", alpn: ["http/1.1"])),
      ],
      manifests: { gateway in
        gatewayManifest()
          + staticDestination("h2c", ports: [gateway.port("h2c")], extra: ", protocol: HTTP2")
          + staticDestination("h2c-capped", ports: [gateway.port("h2c")], extra: ", protocol: HTTP2")
          + staticDestination(
            "h2", ports: [gateway.port("h2")],
            extra: ", protocol: HTTP2, tls: {sni: upstream.test, rootCa: \(ca)}")
          + staticDestination(
            "http1-only", ports: [gateway.port("http1-tls")],
            extra: ", protocol: HTTP2, tls: {sni: upstream.test, rootCa: \(ca)}")
          + virtualHost(
            "h2-upstream.test",
            routes: """
                - matchers: [{uri: {prefix: /tls}}]
                  routeAction: {destinations: [{staticDestination: {name: h2}}]}
                - matchers: [{uri: {prefix: /capped}}]
                  options: {connectionPoolSettings: {http: {http2MaxRequests: 2}}}
                  routeAction: {pathRewrite: /, destinations: [{staticDestination: {name: h2c-capped}}]}
                - matchers: [{uri: {prefix: /http1-only}}]
                  routeAction: {destinations: [{staticDestination: {name: http1-only}}]}
                - routeAction: {destinations: [{staticDestination: {name: h2c}}]}
              """)
      })
  }

  override func tearDown() async throws {
    await gateway?.stop()
    certificates?.remove()
  }

  func testHTTP1ClientToCleartextUpstream() async throws {
    let response = try await send(.GET, gateway.base + "/echo?x=1", host: "h2-upstream.test")
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(response.json["protocol"] as? String, "HTTP/2.0")
    XCTAssertEqual(response.json["path"] as? String, "/echo")
    XCTAssertEqual(response.json["query"] as? String, "x=1")
    XCTAssertEqual(response.upstreamHeader("host"), ["h2-upstream.test"], "from :authority")
    XCTAssertEqual(response.upstreamHeader("x-forwarded-proto"), ["http"])
    XCTAssertNil(response.upstreamHeader("connection"))
    XCTAssertEqual(response.headers["x-upstream"], ["h2c"])

    let upload = try await send(
      .POST, gateway.base + "/upload", host: "h2-upstream.test", body: String(repeating: "x", count: 200_000))
    XCTAssertEqual(upload.json["bodyBytes"] as? Int, 200_000)

    let head = try await send(.HEAD, gateway.base + "/echo", host: "h2-upstream.test")
    XCTAssertEqual(head.status, 200)
    XCTAssertEqual(head.body, "")

    let large = try await send(.GET, gateway.base + "/bytes/3000000", host: "h2-upstream.test")
    XCTAssertEqual(large.body.utf8.count, 3_000_000)
  }

  /// A body of unknown length, sent in pieces: it goes upstream as DATA frames as it arrives.
  func testStreamedUploadWithoutLength() async throws {
    let response = try await sendStreamed(
      .PUT, gateway.base + "/stream", host: "h2-upstream.test", pieces: 20, size: 10_000)
    XCTAssertEqual(response.json["bodyBytes"] as? Int, 200_000)
    XCTAssertEqual(response.json["method"] as? String, "PUT")
  }

  /// More requests at once than one connection's stream limit: the rest wait for streams, none fail.
  func testManyConcurrentRequestsShareTheConnection() async throws {
    let base = gateway.base
    let statuses = try await sendConcurrently(count: 300, host: "h2-upstream.test") {
      base + "/delay/50/\($0)"
    }
    XCTAssertEqual(statuses, Array(repeating: 200, count: 300))
    let after = try await send(.GET, gateway.base + "/after", host: "h2-upstream.test")
    // With one gateway event loop, every request went over one connection.
    XCTAssertEqual(after.json["connectionRequests"] as? Int, 301)
  }

  /// `http2MaxRequests: 2`: six slow requests at once go two at a time, in three waves.
  func testStreamLimitQueuesRequests() async throws {
    let base = gateway.base
    let started = ContinuousClock.now
    let statuses = try await sendConcurrently(count: 6, host: "h2-upstream.test") { _ in
      base + "/capped/delay/300"
    }
    XCTAssertEqual(statuses, Array(repeating: 200, count: 6))
    XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(850))
  }

  func testHTTP2ClientToHTTP2Upstream() throws {
    let out = try Shell.run(
      "curl -sS --max-time 10 --http2-prior-knowledge -H 'Host: h2-upstream.test' "
        + "-w '\\n%{http_version} %{http_code}' \(gateway.base)/both-sides")
    let lines = out.split(separator: "\n")
    XCTAssertEqual(lines.last, "2 200", out)
    let echo = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
    XCTAssertEqual(echo?["protocol"] as? String, "HTTP/2.0")
    XCTAssertEqual(echo?["path"] as? String, "/both-sides")
  }

  func testTLSUpstreamByALPN() async throws {
    let response = try await send(.GET, gateway.base + "/tls", host: "h2-upstream.test")
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(response.json["protocol"] as? String, "HTTP/2.0")
    XCTAssertEqual(response.upstreamHeader("x-forwarded-proto"), ["http"])
  }

  /// An upstream that does not agree to h2 by ALPN cannot be spoken to: a failed connect, not a garbled
  /// exchange.
  func testUpstreamWithoutH2IsAConnectFailure() async throws {
    let response = try await send(.GET, gateway.base + "/http1-only", host: "h2-upstream.test")
    XCTAssertEqual(response.status, 503, response.body)
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["UF"])
  }
}
