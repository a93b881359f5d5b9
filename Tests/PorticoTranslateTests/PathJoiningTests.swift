import XCTest

@testable import PorticoTranslate

/// Every path-joining case of the binding decision on relative child matchers.
final class PathJoiningTests: XCTestCase {
  /// The combined matcher summaries of a single child route `child` under a parent route `parent`.
  func joined(parent: String, child: String, passFullPath: Bool = false) -> [String] {
    let result = translate(
      host(
        "shop", domain: "shop.test",
        routes: delegate("p", parent, "{refs: [{name: child}], passFullPath: \(passFullPath)}"))
        + "\n---\n" + table("child", routes: forward("c", child)))
    return result.routes(of: "shop.test").flatMap(\.summaries)
  }

  func testSlashesAtTheSeam() {
    XCTAssertEqual(joined(parent: "{uri: {prefix: /a}}", child: "{uri: {prefix: /b}}"), ["prefix /a/b"])
    XCTAssertEqual(joined(parent: "{uri: {prefix: /a/}}", child: "{uri: {prefix: /b}}"), ["prefix /a/b"])
    XCTAssertEqual(joined(parent: "{uri: {prefix: /a}}", child: "{uri: {prefix: b}}"), ["prefix /a/b"])
    XCTAssertEqual(joined(parent: "{uri: {prefix: /}}", child: "{uri: {prefix: /b}}"), ["prefix /b"])
  }

  func testChildSlashGivesTheParentPrefix() {
    XCTAssertEqual(joined(parent: "{uri: {prefix: /a}}", child: "{uri: {prefix: /}}"), ["prefix /a"])
    XCTAssertEqual(joined(parent: "{uri: {prefix: /a/}}", child: "{uri: {prefix: /}}"), ["prefix /a/"])
    XCTAssertEqual(joined(parent: "{uri: {prefix: /a}}", child: "{uri: {exact: /}}"), ["exact /a"])
  }

  func testExactChild() {
    XCTAssertEqual(
      joined(parent: "{uri: {prefix: /reviews}}", child: "{uri: {exact: /v1/version}}"),
      ["exact /reviews/v1/version"])
  }

  func testChildWithoutMatchersInheritsTheParentPrefix() {
    let result = translate(
      host(
        "shop", domain: "shop.test", routes: delegate("p", "{uri: {prefix: /a}}", "{refs: [{name: child}]}"))
        + "\n---\n"
        + table("child", routes: "  - name: all\n    directResponseAction: {status: 200}"))
    XCTAssertEqual(result.routes(of: "shop.test").flatMap(\.summaries), ["prefix /a"])
  }

  func testRegexChildIsAnchoredUnderTheParentPrefix() {
    XCTAssertEqual(
      joined(parent: "{uri: {prefix: /api/}}", child: "{uri: {regex: '/v[0-9]+/.*'}}"),
      ["prefix /api + regex /v[0-9]+/.*"])
    XCTAssertEqual(
      joined(parent: "{uri: {prefix: /api}}", child: "{uri: {regex: 'v[0-9]+'}}"),
      ["prefix /api/ + regex v[0-9]+"])
  }

  func testSuffixChildKeepsTheParentPrefix() {
    XCTAssertEqual(
      joined(parent: "{uri: {prefix: /files}}", child: "{uri: {suffix: .json}}"),
      ["prefix /files + suffix .json"])
  }

  func testParentConditionsAreAndedOntoTheChild() {
    let summaries = joined(
      parent:
        "{uri: {prefix: /a}, method: GET, headers: [{name: X-Team, value: blue}], queryParameters: [{name: v, value: '2'}]}",
      child: "{uri: {prefix: /b}, headers: [{name: x-canary}]}")
    XCTAssertEqual(
      summaries, ["prefix /a/b, method GET, header x-team: blue, header x-canary present, query ?v=2"])
  }

  func testConflictingMethodsCanNeverMatchAndAreReported() {
    let result = translate(
      host(
        "shop", domain: "shop.test",
        routes: delegate("p", "{uri: {prefix: /a}, method: GET}", "{refs: [{name: child}]}"))
        + "\n---\n" + table("child", routes: forward("c", "{uri: {prefix: /b}, method: POST}")))
    XCTAssertTrue(result.routes(of: "shop.test").isEmpty)
    let warnings = result.status(.routeTable, "apps", "child")?.warnings.map(\.message) ?? []
    XCTAssertTrue(warnings.contains { $0.contains("can never match") }, "\(warnings)")
  }

  func testCrossProductOfParentAndChildMatchers() {
    let summaries = joined(
      parent: "{uri: {prefix: /a}}, {uri: {prefix: /b}}", child: "{uri: {prefix: /x}}, {uri: {exact: /y}}")
    XCTAssertEqual(summaries, ["prefix /a/x", "prefix /b/x", "exact /a/y", "exact /b/y"])
  }

  func testIgnoreCaseIsPerMatcher() throws {
    let result = translate(
      host(
        "shop", domain: "shop.test", routes: delegate("p", "{uri: {prefix: /api}}", "{refs: [{name: child}]}")
      )
        + "\n---\n" + table("child", routes: forward("c", "{uri: {prefix: /Users, ignoreCase: true}}")))
    let path = try XCTUnwrap(result.routes(of: "shop.test").first?.matchers.first?.path)
    XCTAssertEqual(path.pieces, [.init("/api"), .init("/Users", ignoresCase: true)])
    XCTAssertEqual(path.summary, "prefix /api(i)/Users")
  }

  func testPassFullPathTakesAbsoluteChildPaths() {
    XCTAssertEqual(
      joined(parent: "{uri: {prefix: /api}}", child: "{uri: {prefix: /api/v1}}", passFullPath: true),
      ["prefix /api/v1"])
    XCTAssertEqual(
      joined(parent: "{uri: {prefix: /api}}", child: "{uri: {regex: '/api/v[0-9]+'}}", passFullPath: true),
      ["prefix /api + regex /v[0-9]+"])
  }

  func testPassFullPathSkipsAChildOutsideTheParentWithAWarning() {
    let result = translate(
      host(
        "shop", domain: "shop.test",
        routes: delegate("p", "{uri: {prefix: /api}}", "{refs: [{name: child}], passFullPath: true}"))
        + "\n---\n"
        + table(
          "child",
          routes: forward("outside", "{uri: {prefix: /other}}") + "\n"
            + forward("inside", "{uri: {exact: /api/x}}")))
    XCTAssertEqual(result.routes(of: "shop.test").flatMap(\.summaries), ["exact /api/x"])
    let warnings = result.status(.routeTable, "apps", "child")?.warnings ?? []
    XCTAssertEqual(warnings.count, 1)
    XCTAssertEqual(warnings.first?.path.description, "spec.routes[0].matchers[0]")
    XCTAssertTrue(warnings.first?.message.contains("must start with the parent prefix '/api'") ?? false)
  }
}
