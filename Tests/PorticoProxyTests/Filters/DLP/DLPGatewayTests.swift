import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// `dlp` on a running gateway: the demo upstream echoes the request, card number and SSN included, and the
/// client gets them masked with the body's length intact; the upstream is not asked for a compressed body;
/// a listener's rules apply to hosts without their own `dlp`, by matcher; `ACCESS_LOGS` masks the access
/// log's line and leaves the body.
final class DLPGatewayTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest().replacingOccurrences(
        of: #"labels: {test: "yes"}}}]}}]"#,
        with:
          #"labels: {test: "yes"}}}], routeOptions: {dlp: {dlpRules: [{matcher: {uri: {prefix: /cards}}, actions: [{actionType: VISA}]}]}}}}]"#
      )
        + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "plain.test",
          routes: """
              - routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
        + virtualHost(
          "bank.test",
          options: """
              options:
                trafficPolicy:
                  dlp:
                    actions:
                    - actionType: ALL_CREDIT_CARDS
                    - actionType: SSN
                    - customAction: {name: secret, regex: ["secret-[a-z]+"], maskChar: "*", percent: {value: 100}}
            """,
          routes: """
              - matchers: [{uri: {prefix: /logs}}]
                options: {dlp: {enabledFor: ACCESS_LOGS, actions: [{actionType: SSN}]}}
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
  }

  override func tearDown() async throws { await gateway?.stop() }

  func testEchoedValuesAreMasked() async throws {
    let response = try await send(
      .GET, gateway.base + "/cards/4111111111111111/ssn/123-45-6789/secret-abc", host: "bank.test",
      headers: [("accept-encoding", "gzip")])
    XCTAssertEqual(response.status, 200)
    XCTAssertFalse(response.body.contains("4111111111111111"), response.body)
    XCTAssertTrue(response.body.contains("XXXXXXXXXXXX1111"), response.body)
    XCTAssertTrue(response.body.contains("XXX-XX-6789"), response.body)
    XCTAssertTrue(response.body.contains("**********"), response.body)
    XCTAssertNil(response.upstreamHeader("accept-encoding"), "the upstream is asked for an uncompressed body")
    if let length = response.headers.first(name: "content-length") {
      XCTAssertEqual(Int(length), response.body.utf8.count)
    }
  }

  func testAListenersRulesApplyByMatcherWhereNoHostSetsItsOwn() async throws {
    let card = "4111111111111111"
    let matched = try await send(.GET, gateway.base + "/cards/\(card)", host: "plain.test")
    XCTAssertTrue(matched.body.contains("XXXXXXXXXXXX1111"), matched.body)
    let other = try await send(.GET, gateway.base + "/orders/\(card)", host: "plain.test")
    XCTAssertTrue(other.body.contains(card), "the rule's matcher does not match /orders")
  }

  func testAccessLogMaskingLeavesTheBody() async throws {
    let response = try await send(.GET, gateway.base + "/logs/123-45-6789", host: "bank.test")
    XCTAssertEqual(response.status, 200)
    XCTAssertTrue(response.body.contains("123-45-6789"), "ACCESS_LOGS only: the body goes as it came")
    let paths = await gateway.accessLog().compactMap { $0["path"] as? String }
    XCTAssertTrue(paths.contains("/logs/XXX-XX-6789"), "\(paths)")
    XCTAssertFalse(paths.contains { $0.contains("123-45-6789") })
  }
}
