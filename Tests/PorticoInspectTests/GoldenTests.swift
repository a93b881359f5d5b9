import Foundation
import XCTest

@testable import PorticoInspect

/// `portico validate`, `routes` and `explain` output for the examples, compared with committed goldens.
/// Run with `PORTICO_UPDATE_GOLDENS=1` to rewrite them after an intended change, and review the diff.
final class GoldenTests: XCTestCase {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Goldens")

  static let quickstartGateway = GatewayIdentity(
    name: "quickstart", namespace: "portico", labels: ["gateway": "quickstart"], ports: ["http": 8080])
  static let teamsGateway = GatewayIdentity(
    name: "storefront", namespace: "platform", labels: ["gateway": "storefront"], ports: ["http": 8080])

  func load(_ example: String) -> ResourceSnapshot {
    let folder = "examples/\(example)"
    return ManifestLoader().load(
      directory: Self.repository.appendingPathComponent(folder).path, displayRoot: folder)
  }

  func assertGolden(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    let url = Self.goldens.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["PORTICO_UPDATE_GOLDENS"] == "1" {
      try FileManager.default.createDirectory(at: Self.goldens, withIntermediateDirectories: true)
      try actual.write(to: url, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    if expected != actual {
      let mismatch = zip(expected.components(separatedBy: "\n"), actual.components(separatedBy: "\n"))
        .enumerated().first { $0.element.0 != $0.element.1 }
      let detail =
        mismatch.map { "line \($0.offset + 1):\n  golden: \($0.element.0)\n  actual: \($0.element.1)" }
        ?? "lengths differ"
      XCTFail("\(name) differs from its golden; \(detail)", file: file, line: line)
    }
  }

  func explain(
    _ example: String, _ gateway: GatewayIdentity, _ method: String, _ url: String,
    headers: [(String, String)] = []
  )
    -> ExplainReport
  {
    let translation = Translator().translate(load(example), for: gateway)
    let request = PlainRequest(method: method, url: url, headers: headers)!
    return ExplainReport(config: translation.config, method: method, url: url, request: request)
  }

  func testValidate() throws {
    let quickstart = ValidationReport(snapshot: load("quickstart"))
    XCTAssertFalse(quickstart.hasErrors)
    try assertGolden("validate-quickstart.txt", quickstart.text)
    let teams = ValidationReport(snapshot: load("teams"))
    XCTAssertTrue(teams.hasErrors)
    XCTAssertEqual(teams.check.diagnostics.errors.count, 1, "exactly the deliberate error")
    XCTAssertEqual(teams.check.diagnostics.errors.first?.location?.file, "examples/teams/returns.yaml")
    try assertGolden("validate-teams.txt", teams.text)
    try assertGolden("validate-teams.json", teams.json)
  }

  func testRoutes() throws {
    let quickstart = RoutesReport(translations: [
      Translator().translate(load("quickstart"), for: Self.quickstartGateway)
    ])
    try assertGolden("routes-quickstart.txt", quickstart.text)
    try assertGolden("routes-quickstart.json", quickstart.json)
    let teams = RoutesReport(translations: Translator().check(load("teams")).translations)
    try assertGolden("routes-teams.txt", teams.text)
  }

  func testExplain() throws {
    try assertGolden(
      "explain-quickstart-catalog.txt",
      explain("quickstart", Self.quickstartGateway, "GET", "http://shop.local:8080/api/catalog/items?page=2")
        .text)
    try assertGolden(
      "explain-quickstart-redirect.txt",
      explain("quickstart", Self.quickstartGateway, "GET", "http://localhost/old").text)
    try assertGolden(
      "explain-quickstart-cart-post.txt",
      explain("quickstart", Self.quickstartGateway, "POST", "http://localhost/api/cart").text)
    try assertGolden(
      "explain-quickstart-no-host.txt",
      explain("quickstart", Self.quickstartGateway, "GET", "http://unknown.test/").text)
    try assertGolden(
      "explain-teams-broken.txt",
      explain("teams", Self.teamsGateway, "GET", "http://store.example.com/returns/RMA-7").text)
    try assertGolden(
      "explain-teams-suggest.json",
      explain("teams", Self.teamsGateway, "GET", "http://STORE.example.com/catalog/search/suggest").json)
  }

  func testTheBrokenTeamTableAnswers500WhileSiblingsRoute() {
    let teams = explain("teams", Self.teamsGateway, "GET", "http://store.example.com/returns/RMA-7")
    guard case .directResponse(let status, _)? = teams.explanation?.match?.route.config.action else {
      return XCTFail("the broken table's paths are answered directly")
    }
    XCTAssertEqual(status, 500)
    let sibling = explain("teams", Self.teamsGateway, "GET", "http://store.example.com/orders/17")
    guard case .forward? = sibling.explanation?.match?.route.config.action else {
      return XCTFail("siblings still forward")
    }
  }
}
