import Foundation
import PorticoAPI
import XCTest

/// How field paths, locations and diagnostics render: the `file:line:column: path: message` form.
final class DiagnosticFormattingTests: XCTestCase {
  // MARK: FieldPath

  func testFieldPathRendering() {
    XCTAssertEqual(
      FieldPath(["spec", "routes", 1, "matchers", 0, "uri"]).description, "spec.routes[1].matchers[0].uri")
    XCTAssertEqual(FieldPath(["spec"]).description, "spec")
    XCTAssertEqual(FieldPath().description, "")
    XCTAssertEqual(FieldPath([0, "name"]).description, "[0].name")
    XCTAssertEqual(FieldPath(["a", 0, 1, "b"]).description, "a[0][1].b")
    XCTAssertEqual(FieldPath(["data", "tls.crt"]).description, "data.tls.crt")
    let literal: FieldPath = ["spec", "weight"]
    XCTAssertEqual(literal.components, [.key("spec"), .key("weight")])
  }

  func testFieldPathAppending() {
    let base: FieldPath = ["spec", "routes"]
    XCTAssertEqual(base.appending(2).description, "spec.routes[2]")
    XCTAssertEqual(base.appending("x").description, "spec.routes.x")
    XCTAssertEqual(base.appending(["a", 1]).description, "spec.routes.a[1]")
    // Appending returns a new path.
    XCTAssertEqual(base.description, "spec.routes")
  }

  func testFieldPathHasPrefix() {
    let path: FieldPath = ["spec", "routes", 1, "options"]
    XCTAssertTrue(path.hasPrefix(["spec", "routes", 1]))
    XCTAssertTrue(path.hasPrefix(path))
    XCTAssertTrue(path.hasPrefix([]))
    XCTAssertFalse(path.hasPrefix(["spec", "routes", 2]))
    XCTAssertFalse(path.hasPrefix(["spec", "routes", 1, "options", "csrf"]))
    // Keys and indexes never compare equal, even with the same text.
    XCTAssertFalse(FieldPath(["a", "1"]).hasPrefix(["a", 1]))
  }

  func testFieldPathEncodesAsItsText() throws {
    let data = try JSONEncoder().encode([FieldPath(["spec", "routes", 3])])
    XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["spec.routes[3]"]"#)
    XCTAssertThrowsError(try JSONDecoder().decode([FieldPath].self, from: Data(#"["spec"]"#.utf8)))
  }

  // MARK: SourceLocation and Diagnostic

  func testSourceLocationDescription() {
    XCTAssertEqual(
      SourceLocation(file: "teams/orders.yaml", line: 14, column: 9).description, "teams/orders.yaml:14:9")
  }

  func testDiagnosticDescription() {
    let location = SourceLocation(file: "teams/orders.yaml", line: 14, column: 9)
    let path: FieldPath = ["spec", "routes", 1, "matchers", 0, "uri"]
    let message = "give exactly one of exact, prefix, regex, suffix"

    XCTAssertEqual(
      Diagnostic(.error, at: location, path: path, message).description,
      "teams/orders.yaml:14:9: spec.routes[1].matchers[0].uri: give exactly one of exact, prefix, regex, suffix"
    )
    XCTAssertEqual(
      Diagnostic(.error, at: location, message).description, "teams/orders.yaml:14:9: \(message)")
    XCTAssertEqual(
      Diagnostic(.warning, at: nil, path: path, message).description,
      "spec.routes[1].matchers[0].uri: \(message)")
    XCTAssertEqual(Diagnostic(.error, at: nil, "cannot read 'x'").description, "cannot read 'x'")
  }

  func testDiagnosticSeverity() {
    let error = Diagnostic(.error, at: nil, "e")
    let warning = Diagnostic(.warning, at: nil, "w")
    XCTAssertTrue(error.isError)
    XCTAssertFalse(warning.isError)
    let list = [warning, error, warning]
    XCTAssertEqual(list.errors, [error])
    XCTAssertEqual(list.warnings, [warning, warning])
    XCTAssertTrue(list.hasErrors)
    XCTAssertFalse([warning].hasErrors)
    XCTAssertFalse([Diagnostic]().hasErrors)
  }

  func testDiagnosticEncodesForTools() throws {
    let diagnostic = Diagnostic(
      .error, at: SourceLocation(file: "a.yaml", line: 2, column: 3), path: ["spec", "x"], "unknown field 'x'"
    )
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = String(decoding: try encoder.encode(diagnostic), as: UTF8.self)
    XCTAssertEqual(
      json,
      #"{"location":{"column":3,"file":"a.yaml","line":2},"message":"unknown field 'x'","path":"spec.x","severity":"error"}"#
    )
  }

  func testSortedBySource() {
    func at(_ file: String, _ line: Int, _ column: Int, _ message: String) -> Diagnostic {
      Diagnostic(.error, at: SourceLocation(file: file, line: line, column: column), message)
    }
    let unplaced1 = Diagnostic(.error, at: nil, "unplaced 1")
    let unplaced2 = Diagnostic(.warning, at: nil, "unplaced 2")
    let list = [
      at("b.yaml", 1, 1, "b1"),
      at("a.yaml", 10, 1, "a10"),
      unplaced1,
      at("a.yaml", 2, 5, "a2:5"),
      at("a.yaml", 2, 3, "a2:3 first"),
      unplaced2,
      at("a.yaml", 2, 3, "a2:3 second"),
    ]
    XCTAssertEqual(
      list.sortedBySource().map(\.message),
      ["unplaced 1", "unplaced 2", "a2:3 first", "a2:3 second", "a2:5", "a10", "b1"])
  }

  // MARK: Resource identity

  func testResourceIDDescriptionAndOrder() {
    XCTAssertEqual(
      ResourceID(.routeTable, namespace: "team", name: "orders").description, "RouteTable team/orders")
    XCTAssertEqual(
      ResourceID(.service, namespace: "team", name: "orders", cluster: "east").description,
      "Service east/team/orders")
    XCTAssertEqual(ResourceID(.routeTable, namespace: "team", name: "orders").qualifiedName, "team/orders")

    let ids = [
      ResourceID(.routeTable, namespace: "b", name: "a"),
      ResourceID(.virtualHost, namespace: "z", name: "z"),
      ResourceID(.routeTable, namespace: "a", name: "b"),
      ResourceID(.routeTable, namespace: "a", name: "a"),
    ]
    XCTAssertEqual(
      ids.sorted().map(\.description),
      ["VirtualHost z/z", "RouteTable a/a", "RouteTable a/b", "RouteTable b/a"])
  }

  func testSnapshotResourcesAreSortedByID() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: zeta, namespace: b}
      spec: {}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: beta, namespace: a}
      spec: {}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: alpha, namespace: b}
      spec: {}
      """)
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.routeTables.map(\.id.qualifiedName), ["a/beta", "b/alpha", "b/zeta"])
  }

  func testAllDiagnosticsAreInSourceOrderAcrossResources() {
    let snapshot = ManifestLoader().load(files: [
      (name: "b.yaml", text: routeTableYAML(name: "b", routes: "- name: no-action")),
      (
        name: "a.yaml",
        text: routeTableYAML(name: "a", routes: "- name: no-action\n- directResponseAction: {status: 1}")
      ),
    ])
    XCTAssertEqual(
      snapshot.allDiagnostics.map { "\($0.location?.file ?? ""):\($0.location?.line ?? 0)" },
      ["a.yaml:6", "a.yaml:7", "b.yaml:6"])
  }
}
