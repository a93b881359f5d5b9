import PorticoAPI
import XCTest

/// The libyaml-based composer: positioned node trees, aliases, limits and failures.
final class YAMLComposerTests: XCTestCase {
  private func compose(_ text: String, file: String = "c.yaml") throws -> [YAMLNode] {
    try YAMLComposer(file: file).documents(in: text)
  }

  func testLimits() {
    XCTAssertEqual(YAMLComposer.maximumDepth, 128)
    XCTAssertEqual(YAMLComposer.maximumBytes, 16 << 20)
    XCTAssertEqual(YAMLComposer.maximumNodes, 1_000_000)
  }

  func testNodePositionsAreOneBased() throws {
    let text = """
      a:
        b: 1
        list:
        - x: 1
          y: 'two'
        flow: {p: [1, 2]}
      """
    let root = try XCTUnwrap(compose(text).first)
    XCTAssertEqual(root.location, SourceLocation(file: "c.yaml", line: 1, column: 1))
    let a = try XCTUnwrap(root["a"])
    XCTAssertEqual(a.location, SourceLocation(file: "c.yaml", line: 2, column: 3))
    XCTAssertEqual(a["b"]?.location, SourceLocation(file: "c.yaml", line: 2, column: 6))
    let list = try XCTUnwrap(a["list"])
    XCTAssertEqual(list.location, SourceLocation(file: "c.yaml", line: 4, column: 3))
    guard case .sequence(let items) = list.content else { return XCTFail("not a list") }
    XCTAssertEqual(items.first?.location, SourceLocation(file: "c.yaml", line: 4, column: 5))
    XCTAssertEqual(items.first?["y"]?.location, SourceLocation(file: "c.yaml", line: 5, column: 8))
    let flow = try XCTUnwrap(a["flow"])
    XCTAssertEqual(flow.location, SourceLocation(file: "c.yaml", line: 6, column: 9))
    XCTAssertEqual(flow["p"]?.location, SourceLocation(file: "c.yaml", line: 6, column: 13))
  }

  func testScalars() throws {
    let root = try XCTUnwrap(
      compose("plain: text\nquoted: 'text'\ndouble: \"a\\tb\"\nblock: |\n  line\n").first)
    guard case .scalar(let plain, let isPlain)? = root["plain"]?.content else { return XCTFail() }
    XCTAssertEqual(plain, "text")
    XCTAssertTrue(isPlain)
    guard case .scalar(let quoted, let quotedIsPlain)? = root["quoted"]?.content else { return XCTFail() }
    XCTAssertEqual(quoted, "text")
    XCTAssertFalse(quotedIsPlain)
    XCTAssertEqual(root["double"]?.scalar, "a\tb")
    XCTAssertEqual(root["block"]?.scalar, "line\n")
    XCTAssertNil(root.scalar)
    XCTAssertNil(root["missing"])
    XCTAssertNil(root["plain"]?["nested"])
  }

  func testNulls() throws {
    let root = try XCTUnwrap(
      compose("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: 'null'\ng: \"\"\nh: nil\ni: none\n").first)
    for key in ["a", "b", "c", "d", "e"] {
      XCTAssertEqual(root[key]?.isNull, true, key)
      XCTAssertEqual(root[key]?.kindName, "null", key)
    }
    for key in ["f", "g", "h", "i"] {
      XCTAssertEqual(root[key]?.isNull, false, key)
      XCTAssertEqual(root[key]?.kindName, "a scalar", key)
    }
    XCTAssertEqual(root.kindName, "a mapping")
    XCTAssertEqual(try XCTUnwrap(compose("[1]").first).kindName, "a list")
  }

  func testDocumentsAndNullDocuments() throws {
    XCTAssertEqual(try compose("").count, 0)
    XCTAssertEqual(try compose("---\n---\n~\n---\nnull\n").count, 0)
    let documents = try compose("a: 1\n---\n- b\n---\n---\nc\n")
    XCTAssertEqual(documents.map(\.kindName), ["a mapping", "a list", "a scalar"])
    XCTAssertEqual(documents.map(\.location.line), [1, 3, 6])
  }

  func testAliasesShareTheirNode() throws {
    let root = try XCTUnwrap(compose("a: &x {k: v}\nb: *x\nc: &s text\nd: *s\n").first)
    let a = try XCTUnwrap(root["a"])
    let b = try XCTUnwrap(root["b"])
    XCTAssertTrue(a === b)
    XCTAssertEqual(root["d"]?.scalar, "text")
    // The alias keeps the anchored node's location.
    XCTAssertEqual(b.location.line, 1)
  }

  func testFailures() {
    func failure(_ text: String) -> YAMLComposer.Failure? {
      do throws(YAMLComposer.Failure) {
        _ = try YAMLComposer(file: "f.yaml").documents(in: text)
        return nil
      } catch {
        return error
      }
    }
    let duplicate = failure("a: 1\nb: 2\na: 3\n")
    XCTAssertEqual(duplicate?.location, SourceLocation(file: "f.yaml", line: 3, column: 1))
    XCTAssertEqual(duplicate?.message, "duplicate key 'a'")
    XCTAssertEqual(duplicate?.description, "f.yaml:3:1: duplicate key 'a'")

    XCTAssertEqual(failure("a: *missing\n")?.message, "unknown alias *missing")
    XCTAssertEqual(failure("? {a: b}\n: c\n")?.message, "mapping keys must be plain strings")
    XCTAssertEqual(failure("a: [1, 2\n")?.message.hasPrefix("invalid YAML: "), true)
    XCTAssertEqual(
      failure(String(repeating: "[", count: 200))?.message,
      "nesting is deeper than \(YAMLComposer.maximumDepth) levels")
    XCTAssertNil(failure("a: [1, 2]\n"))
  }

  func testLocationOfFieldPaths() throws {
    let text = """
      spec:
        routes:
        - name: a
          matchers: [{uri: {prefix: /a}}]
        - {name: b}
      """
    let root = try XCTUnwrap(compose(text).first)
    // A present key: the key's own position.
    XCTAssertEqual(root.location(of: ["spec", "routes", 0, "matchers"]).line, 4)
    XCTAssertEqual(root.location(of: ["spec", "routes", 0, "matchers"]).column, 5)
    // An index: the item.
    XCTAssertEqual(
      root.location(of: ["spec", "routes", 1]), SourceLocation(file: "c.yaml", line: 5, column: 5))
    // A missing key: its parent, where the field would go.
    XCTAssertEqual(
      root.location(of: ["spec", "routes", 1, "routeAction"]),
      SourceLocation(file: "c.yaml", line: 5, column: 5))
    // A path through a missing part stops at the deepest node that exists.
    XCTAssertEqual(
      root.location(of: ["spec", "routes", 9, "name"]), SourceLocation(file: "c.yaml", line: 3, column: 3))
    XCTAssertEqual(root.location(of: []), root.location)
    XCTAssertTrue(root.deepestNode(along: ["spec", "missing", "deeper"]) === root["spec"])
    XCTAssertEqual(root.deepestNode(along: ["spec", "routes", 1, "name"]).scalar, "b")
  }
}
