import Foundation
import NIOSSL
import XCTest

@testable import PorticoProxy

/// Destinations with `tls`: the gateway connects over TLS, sends the SNI name, verifies the upstream's
/// certificate against `rootCa`, and treats a failed verification as a failed connect.
final class UpstreamTLSTests: XCTestCase {
  var certificates: TestCertificates!
  var gateway: TestGateway!

  override func setUp() async throws {
    let certificates = try TestCertificates()
    self.certificates = certificates
    try certificates.issue("upstream", commonName: "upstream.test", altNames: ["DNS:upstream.test"])
    let context = try certificates.serverContext("upstream")
    let ca = certificates.path("ca.pem")
    gateway = try await TestGateway(
      upstreams: ["secure"], behaviours: ["secure": .init(tls: context)],
      manifests: { gateway in
        let port = gateway.port("secure")
        return gatewayManifest()
          + staticDestination("verified", ports: [port], extra: ", tls: {sni: upstream.test, rootCa: \(ca)}")
          + staticDestination("wrong-name", ports: [port], extra: ", tls: {sni: other.test, rootCa: \(ca)}")
          + staticDestination("untrusted", ports: [port], extra: ", tls: {sni: upstream.test}")
          + staticDestination("skip-verify", ports: [port], extra: ", tls: {insecureSkipVerify: true}")
          + virtualHost(
            "tls-upstream.test",
            routes: """
                - matchers: [{uri: {prefix: /verified}}]
                  routeAction: {destinations: [{staticDestination: {name: verified}}]}
                - matchers: [{uri: {prefix: /wrong-name}}]
                  routeAction: {destinations: [{staticDestination: {name: wrong-name}}]}
                - matchers: [{uri: {prefix: /untrusted}}]
                  routeAction: {destinations: [{staticDestination: {name: untrusted}}]}
                - matchers: [{uri: {prefix: /skip-verify}}]
                  routeAction: {destinations: [{staticDestination: {name: skip-verify}}]}
              """)
      })
  }

  override func tearDown() async throws {
    await gateway?.stop()
    certificates?.remove()
  }

  func testVerifiedUpstream() async throws {
    for _ in 0..<3 {
      let response = try await send(.GET, gateway.base + "/verified", host: "tls-upstream.test")
      XCTAssertEqual(response.status, 200, response.body)
      XCTAssertEqual(response.json["path"] as? String, "/verified")
    }
    let reused = try await send(.GET, gateway.base + "/verified", host: "tls-upstream.test")
    XCTAssertGreaterThan(reused.json["connectionRequests"] as? Int ?? 0, 1, "TLS connections are pooled")
  }

  func testVerificationFailuresAreConnectFailures() async throws {
    for path in ["/wrong-name", "/untrusted"] {
      let response = try await send(.GET, gateway.base + path, host: "tls-upstream.test")
      XCTAssertEqual(response.status, 503, path)
      XCTAssertTrue(response.body.contains("upstream connect error"), response.body)
    }
    let log = await gateway.accessLog()
    XCTAssertEqual(log.suffix(2).map { $0["flags"] as? String }, ["UF", "UF"])
  }

  func testInsecureSkipVerify() async throws {
    let response = try await send(.GET, gateway.base + "/skip-verify", host: "tls-upstream.test")
    XCTAssertEqual(response.status, 200, response.body)
  }
}
