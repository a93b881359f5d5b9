import Foundation
import XCTest

@testable import PorticoProxy

/// `csrf`: state-changing requests from another site are refused (or, in shadow mode, counted), unless
/// their origin is one of `additionalOrigins`.
final class CSRFTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "csrf.test",
          options:
            "  options: {trafficPolicy: {csrf: {filterEnabled: true, additionalOrigins: [{suffix: .partner.example}]}}}",
          routes: """
              - matchers: [{uri: {prefix: /shadow}}]
                options: {csrf: {shadowEnabled: true}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
  }

  override func tearDown() async throws { await gateway.stop() }

  func post(_ path: String, origin: String?) async throws -> Int {
    try await send(
      .POST, gateway.base + path, host: "csrf.test:8080", headers: origin.map { [("origin", $0)] } ?? [],
      body: "x"
    ).status
  }

  func testForeignOriginsAreRefused() async throws {
    let foreign = try await send(
      .POST, gateway.base + "/x", host: "csrf.test", headers: [("origin", "https://evil.example")], body: "x")
    XCTAssertEqual(foreign.status, 403)
    XCTAssertEqual(foreign.body, "Invalid origin\n")
    let sameHost = try await post("/x", origin: "https://csrf.test")
    XCTAssertEqual(sameHost, 200, "the same host, any port")
    let partner = try await post("/x", origin: "https://app.partner.example")
    XCTAssertEqual(partner, 200, "an additional origin")
    let none = try await post("/x", origin: nil)
    XCTAssertEqual(none, 200, "no origin at all")
    let get = try await send(
      .GET, gateway.base + "/x", host: "csrf.test", headers: [("origin", "https://evil.example")])
    XCTAssertEqual(get.status, 200, "a GET changes nothing")
    let referer = try await send(
      .DELETE, gateway.base + "/x", host: "csrf.test", headers: [("referer", "https://evil.example/page")])
    XCTAssertEqual(referer.status, 403, "without Origin, Referer is checked")
    let sneaky = try await send(
      .DELETE, gateway.base + "/x", host: "csrf.test",
      headers: [("referer", "https://evil.example/x.partner.example")])
    XCTAssertEqual(sneaky.status, 403, "an accepted suffix in the Referer's path does not count")
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains(#"portico_csrf_foreign_origin_total{mode="enforced"} 3"#), metrics)
  }

  /// The route's shadow policy replaces the host's: counted, not refused.
  func testShadowModeCountsOnly() async throws {
    let status = try await post("/shadow", origin: "https://evil.example")
    XCTAssertEqual(status, 200)
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains(#"portico_csrf_foreign_origin_total{mode="shadow"} 1"#), metrics)
  }
}
