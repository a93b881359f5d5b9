import Foundation
import XCTest

@testable import PorticoInspect

/// `portico explain` on a route with `rateLimit` lists the descriptors the request makes and the rules they
/// hit, in text and JSON, without counting anything.
final class RateLimitExplainTests: XCTestCase {
  private func report(headers: [(String, String)]) throws -> ExplainReport {
    let snapshot = ManifestLoader().load(
      directory: GoldenTests.repository.appendingPathComponent("examples/rate-limiting").path,
      displayRoot: "examples/rate-limiting")
    let gateway = GatewayIdentity(
      name: "limits", namespace: "shop", labels: ["gateway": "limits"], ports: ["http": 8080])
    let config = Translator().translate(snapshot, for: gateway).config
    let url = "http://api.shop.local/items"
    let request = try XCTUnwrap(PlainRequest(method: "GET", url: url, headers: headers))
    return ExplainReport(config: config, method: "GET", url: url, request: request)
  }

  func testDescriptorsAndTheRulesTheyHit() throws {
    let gold = try report(headers: [("x-api-key", "k1"), ("x-plan", "gold")])
    let lines = gold.text.split(separator: "\n").filter { $0.hasPrefix("ratelimit:") }.map(String.init)
    XCTAssertEqual(
      lines,
      [
        "ratelimit: descriptor [api-key=k1]",
        "ratelimit: descriptor [api-key=k1, plan=gold]",
        "ratelimit: descriptor [remote_address=127.0.0.1]",
        "ratelimit: set {plan=gold, method=GET}",
        "ratelimit: rule shop/api api-key.plan=gold: 20 per MINUTE",
        "ratelimit: rule shop/api remote_address: 10 per MINUTE",
        "ratelimit: rule shop/trial api-key: 2 per MINUTE, shadow: counted, never refused",
      ], gold.text)
    XCTAssertTrue(gold.json.contains("\"rateLimit\""), gold.json)

    // Without a key, the per-key descriptors are dropped: only the address rule and the set remain.
    let anonymous = try report(headers: [])
    XCTAssertTrue(anonymous.text.contains("ratelimit: descriptor [remote_address=127.0.0.1]"), anonymous.text)
    XCTAssertFalse(anonymous.text.contains("api-key"), anonymous.text)
  }
}
