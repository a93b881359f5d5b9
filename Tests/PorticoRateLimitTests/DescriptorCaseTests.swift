import Foundation
import PorticoAPI
import XCTest

@testable import PorticoRateLimit

/// The cases in `Fixtures/descriptor-cases.yaml`, written from Envoy's rate-limit service and Gloo's
/// documentation: for each, the rules, the actions, and the status each request in turn must get, all in
/// one window of a fresh local store.
final class DescriptorCaseTests: XCTestCase {
  struct Case: Decodable {
    struct ServerConfig: Decodable {
      let name: String
      let raw: RateLimitRules
    }

    struct Gateway: Decodable {
      let sourceCluster: String?
      let destinationCluster: String?
    }

    struct Request: Decodable {
      let headers: [String: String]?
      let remoteAddress: String?
      let metadata: [String: [String: String]]?
      let expect: Int
    }

    let name: String
    let source: String
    let gateway: Gateway?
    let serverConfigs: [ServerConfig]
    let rateLimits: [RateLimitActions]
    let requests: [Request]
  }

  struct FixtureRequest: RateLimitRequest {
    let headers: [String: String]
    let remoteAddress: String
    let dynamicMetadata: [String: [String: String]]

    func header(_ name: String) -> String? { headers[name] }

    func metadata(namespace: String, path: [String]) -> String? {
      guard path.count == 1 else { return nil }
      return dynamicMetadata[namespace]?[path[0]]
    }
  }

  static func cases() throws -> [Case] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/descriptor-cases.yaml")
    let text = try String(contentsOf: url, encoding: .utf8)
    guard let node = YAMLComposer(file: "descriptor-cases.yaml").read(text).documents.first else { return [] }
    let (decoded, diagnostics) = ManifestDecoder().decode([Case].self, from: node)
    let errors = diagnostics.filter(\.isError)
    guard let decoded, errors.isEmpty else {
      throw NSError(
        domain: "fixture", code: 1,
        userInfo: [NSLocalizedDescriptionKey: errors.map(\.description).joined(separator: "\n")])
    }
    return decoded
  }

  func testEveryDocumentedCase() throws {
    let cases = try Self.cases()
    XCTAssertGreaterThanOrEqual(cases.count, 25, "the fixture holds the documented cases")
    for testCase in cases {
      let limiter = RateLimiter(
        builder: try DescriptorBuilder(testCase.rateLimits),
        rules: RateLimitRuleSet(
          testCase.serverConfigs.map { RateLimitRuleSet.Config(id: "tests/\($0.name)", rules: $0.raw) }))
      let route = RateLimitRoute(
        sourceCluster: testCase.gateway?.sourceCluster ?? "edge",
        destinationCluster: testCase.gateway?.destinationCluster ?? "backend")
      let store = LocalCounterStore(capacity: 1024)
      // One window: the middle of a day, so that every unit's window holds every request.
      let now: Int64 = 1_796_040_000 + 43_200
      var statuses: [Int] = []
      for request in testCase.requests {
        var headers = [":method": "GET", ":path": "/", ":authority": "example.com"]
        for (name, value) in request.headers ?? [:] { headers[name.lowercased()] = value }
        let decision = limiter.decide(
          FixtureRequest(
            headers: headers, remoteAddress: request.remoteAddress ?? "127.0.0.1",
            dynamicMetadata: request.metadata ?? [:]),
          on: route, store: store, at: now)
        statuses.append(decision.firstRefusing == nil ? 200 : 429)
      }
      XCTAssertEqual(
        statuses, testCase.requests.map(\.expect), "\(testCase.name) (\(testCase.source))")
    }
  }
}
