import Foundation
import XCTest

@testable import PorticoInspect

/// `portico explain` for a gateway no VirtualGateway selects says so, and how to name one it selects.
final class ExplainHintTests: XCTestCase {
  func testAGatewayNothingSelectsIsToldWhatEachVirtualGatewaySelects() throws {
    let snapshot = ManifestLoader().load(
      directory: GoldenTests.repository.appendingPathComponent("examples/quickstart").path,
      displayRoot: "examples/quickstart")
    let stranger = GatewayIdentity(name: "quickstart")
    let config = Translator().translate(snapshot, for: stranger).config
    let request = try XCTUnwrap(PlainRequest(method: "GET", url: "http://shop.local/", headers: []))
    var report = ExplainReport(config: config, method: "GET", url: "http://shop.local/", request: request)
    report.selectionHints = ExplainReport.selectionHints(for: stranger, config: config, snapshot: snapshot)
    XCTAssertTrue(
      report.text.contains("no VirtualGateway selects gateway quickstart (namespace default"), report.text)
    XCTAssertTrue(
      report.text.contains("VirtualGateway portico/quickstart selects gateways labelled gateway=quickstart"),
      report.text)
    XCTAssertTrue(
      report.text.contains("try: --gateway quickstart --namespace portico --label gateway=quickstart"),
      report.text)
    XCTAssertTrue(report.json.contains("\"notes\""))

    let selected = Translator().translate(snapshot, for: GoldenTests.quickstartGateway).config
    XCTAssertEqual(
      ExplainReport.selectionHints(for: GoldenTests.quickstartGateway, config: selected, snapshot: snapshot),
      [],
      "a gateway that is selected gets no hints")
  }
}
