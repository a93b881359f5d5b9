import Foundation
import XCTest

@testable import PorticoInspect

/// `portico explain` on a route with `extauth` names its AuthConfig and what each step checks, never a key,
/// a hash or a Secret's value.
final class ExtAuthExplainTests: XCTestCase {
  private func report(path: String) throws -> ExplainReport {
    let snapshot = ManifestLoader().load(
      directory: GoldenTests.repository.appendingPathComponent("examples/external-auth").path,
      displayRoot: "examples/external-auth")
    let gateway = GatewayIdentity(
      name: "auth", namespace: "shop", labels: ["gateway": "auth"], ports: ["http": 8080])
    let config = Translator().translate(snapshot, for: gateway).config
    let url = "http://api.shop.local" + path
    let request = try XCTUnwrap(PlainRequest(method: "GET", url: url, headers: []))
    return ExplainReport(config: config, method: "GET", url: url, request: request)
  }

  func testTheAuthLineNamesTheStepsAndNoSecret() throws {
    let items = try report(path: "/items")
    let lines = items.text.split(separator: "\n").filter { $0.hasPrefix("auth:") }
    XCTAssertEqual(
      lines,
      [
        "auth:    shop/api-keys: key (apiKeyAuth: header api-key, 2 keys); every step must pass; identity in x-user-id"
      ], items.text)
    for secret in [
      "k-web-7f3a9c2e41", "k-acme-5d81b0e6c4",
      "b2a084addc234e48ece075433063aa6c45bf6152bb9387cd03e9ef8eaa654f22",
    ] {
      XCTAssertFalse(items.text.contains(secret))
      XCTAssertFalse(items.json.contains(secret))
    }
    let staff = try report(path: "/staff/report")
    XCTAssertTrue(staff.text.contains("auth:    shop/staff: password (basicAuth: 1 users)"), staff.text)
    XCTAssertFalse(staff.json.contains("5CkRcqhZ6Ul0mrX7a5bep"), staff.json)
    let health = try report(path: "/health")
    XCTAssertFalse(health.text.contains("auth:"), health.text)
  }
}
