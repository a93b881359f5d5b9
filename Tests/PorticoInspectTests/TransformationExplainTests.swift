import Foundation
import XCTest

@testable import PorticoInspect

/// `portico explain` on a route with `transformations` sums the entries up in a `transform:` line.
final class TransformationExplainTests: XCTestCase {
  func testTheTransformLineSumsUpTheEntries() throws {
    let snapshot = ManifestLoader().load(
      directory: GoldenTests.repository.appendingPathComponent("examples/transformations").path,
      displayRoot: "examples/transformations")
    let gateway = GatewayIdentity(
      name: "transformations", namespace: "shop", labels: ["gateway": "transformations"],
      ports: ["http": 8080])
    let config = Translator().translate(snapshot, for: gateway).config
    let url = "http://api.shop.local/calc/add"
    let request = try XCTUnwrap(PlainRequest(method: "POST", url: url, headers: []))
    let report = ExplainReport(config: config, method: "POST", url: url, request: request)
    let lines = report.text.split(separator: "\n").filter { $0.hasPrefix("transform:") }
    XCTAssertEqual(lines.count, 1, report.text)
    let line = String(lines.first ?? "")
    XCTAssertTrue(line.contains("request: xslt from JSON to text/xml"), line)
    XCTAssertTrue(line.contains("response: xslt"), line)
    XCTAssertTrue(line.contains("if 1 matcher"), line)
  }
}
