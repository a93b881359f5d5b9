import Foundation
import PorticoAPI
import XCTest

/// Input that is broken, malicious or just enormous: it must never crash or hang, and must yield errors.
final class HostileInputTests: XCTestCase {
  /// Loads `text` and expects exactly one error, not attached to any resource, containing `fragment`.
  @discardableResult
  private func expectFileError(
    _ text: String, containing fragment: String, file: StaticString = #filePath, line: UInt = #line
  ) -> Diagnostic? {
    let snapshot = load(text, file: "hostile.yaml")
    let errors = snapshot.errors
    XCTAssertEqual(errors.count, 1, describe(errors), file: file, line: line)
    let error = errors.first
    XCTAssertEqual(error?.message.contains(fragment), true, describe(errors), file: file, line: line)
    XCTAssertEqual(error?.location?.file, "hostile.yaml", file: file, line: line)
    XCTAssertTrue(snapshot.routeTables.isEmpty && snapshot.services.isEmpty, file: file, line: line)
    return error
  }

  // MARK: Broken YAML

  func testTruncatedYAML() {
    let unclosedQuote = expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"abc\n", containing: "invalid YAML")
    XCTAssertEqual(unclosedQuote?.message.contains("end of stream"), true)
    XCTAssertEqual(unclosedQuote?.location?.line, 5)

    let unclosedFlow = expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata: {name: x, labels: {a: b\n", containing: "invalid YAML")
    XCTAssertEqual(unclosedFlow?.location?.line, 4)

    expectFileError(
      routeTableYAML(routes: "- name: x\n  matchers: [{uri: {pref"), containing: "invalid YAML")
  }

  func testTruncatedAfterAColonIsAnEmptyValue() {
    // Cut right after `directResponseAction:` the YAML is still valid (a null value), so the route has no action.
    let snapshot = load(routeTableYAML(routes: "- name: x\n  directResponseAction:"))
    expectDiagnostic(
      snapshot.errors, at: "spec.routes[0]",
      containing: "give exactly one of routeAction, redirectAction, directResponseAction, delegateAction")
  }

  func testTruncationAtEveryCharacterNeverCrashes() {
    let text = """
      apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
      kind: VirtualHost
      metadata: {name: store, namespace: store, labels: {exposed: "yes"}}
      spec:
        domains: ["*.example.com", 'shop.example.com']
        options:
          trafficPolicy: {requestTimeout: 20s, retries: {attempts: 2, perTryTimeout: 8s}}
        routes:
        - name: orders
          matchers: [{uri: {prefix: /orders}, headers: [{name: x-a, value: 'b.*', regex: true}]}]
          delegateAction: {refs: [{name: orders-core, namespace: orders-team}]}
        - name: old
          matchers:
          - uri: {exact: /basket}
          redirectAction: {pathRedirect: /orders/cart, responseCode: PERMANENT_REDIRECT}
      """
    var loadedCompletely = 0
    for length in 0...text.count {
      let snapshot = load(String(text.prefix(length)))
      if snapshot.virtualHosts.count == 1 && snapshot.allDiagnostics.isEmpty { loadedCompletely += 1 }
    }
    // The full text loads without a diagnostic.
    XCTAssertGreaterThanOrEqual(loadedCompletely, 1)
    assertNoDiagnostics(load(text))
  }

  func testTabIndentation() {
    let error = expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n",
      containing: "found character that cannot start any token")
    XCTAssertEqual(error?.location?.line, 4)
    XCTAssertEqual(error?.location?.column, 1)
  }

  func testBadIndentation() {
    let error = expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n namespace: y\n",
      containing: "did not find expected key")
    XCTAssertEqual(error?.location?.line, 5)
    XCTAssertEqual(error?.location?.column, 2)
  }

  func testOtherMalformedYAML() {
    for text in [
      "apiVersion: 'v1\nkind: Service\n",
      "kind: Service: Extra\n",
      "- a\nb: c\n",
      "spec: {a: 1]\n",
      "spec: [a, b}\n",
      "%YAML 9.9\n--- {}\n",
      "!!binary |\n  ===\n",
      "a: |\n b\nc\n  - d\n",
    ] {
      let snapshot = load(text)
      XCTAssertTrue(snapshot.errors.count >= 1, "no error for \(text.debugDescription)")
    }
  }

  func testControlCharactersAreRejected() {
    expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata: {name: \"a\u{0}b\"}\n", containing: "invalid YAML")
    expectFileError("apiVersion: v1\nkind: Service\nmetadata: {name: a\u{1}b}\n", containing: "invalid YAML")
  }

  // MARK: Documents of the wrong shape

  func testDocumentThatIsAScalarOrAList() {
    XCTAssertEqual(
      load("just a string\n", file: "s.yaml").errors.map(\.description),
      ["s.yaml:1:1: a manifest must be a mapping, found a scalar"])
    XCTAssertEqual(
      load("- apiVersion: v1\n- kind: Service\n", file: "l.yaml").errors.map(\.description),
      ["l.yaml:1:1: a manifest must be a mapping, found a list"])
    XCTAssertEqual(
      load(#"[{"apiVersion": "v1", "kind": "Service"}]"#, file: "l.json").errors.map(\.description),
      ["l.json:1:1: a manifest must be a mapping, found a list"])
    // A bad document does not stop the next one.
    let mixed = load("42\n---\n" + routeTableYAML(routes: "- directResponseAction: {status: 200}"))
    XCTAssertEqual(mixed.errors.count, 1)
    XCTAssertEqual(mixed.routeTables.count, 1)
  }

  func testFieldsOfTheWrongShapeAtTheTop() {
    let snapshot = load("apiVersion: [v1]\nkind: Service\nmetadata: {name: x}\n")
    expectDiagnostic(snapshot.errors, at: "apiVersion", containing: "missing required field 'apiVersion'")

    let metadata = load("apiVersion: v1\nkind: Service\nmetadata: [x]\n")
    expectDiagnostic(metadata.errors, at: "metadata", containing: "expected a mapping, found a list")
    XCTAssertTrue(metadata.services.isEmpty)

    let spec = load("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: nonsense\n")
    expectDiagnostic(spec.errors, at: "spec", containing: "expected a mapping, found a scalar")
    XCTAssertEqual(spec.broken.count, 1)

    let missingSpec = load("apiVersion: portico.dev/v1\nkind: RouteTable\nmetadata: {name: x}\n")
    expectDiagnostic(missingSpec.errors, at: "spec", containing: "missing required field 'spec'")
  }

  // MARK: Deep nesting

  func testDeepFlowNesting() {
    let depth = YAMLComposer.maximumDepth
    for text in [
      String(repeating: "[", count: 100_000),
      String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
      String(repeating: "{a: ", count: 100_000),
    ] {
      let error = expectFileError(text, containing: "nesting is deeper than \(depth) levels")
      XCTAssertEqual(error?.location?.line, 1)
    }
    let error = load(String(repeating: "[", count: 100_000), file: "hostile.yaml").errors.first
    XCTAssertEqual(error?.location?.column, depth + 1)
  }

  func testDeepBlockNesting() {
    let depth = YAMLComposer.maximumDepth
    let dashes = expectFileError(
      String(repeating: "- ", count: 10_000) + "x\n", containing: "nesting is deeper than \(depth) levels")
    XCTAssertEqual(dashes?.location?.line, 1)
    XCTAssertEqual(dashes?.location?.column, 2 * depth + 1)

    let mappings = (0..<300).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n")
    expectFileError(mappings, containing: "nesting is deeper than \(depth) levels")
  }

  func testNestingUpToTheLimitLoads() {
    let depth = YAMLComposer.maximumDepth
    func document(nestedLists count: Int) -> String {
      // The document's mapping is one level; `status` adds `count` nested lists.
      routeTableYAML(routes: "- directResponseAction: {status: 200}")
        + "status: " + String(repeating: "[", count: count) + String(repeating: "]", count: count) + "\n"
    }
    let atLimit = load(document(nestedLists: depth - 1))
    assertNoDiagnostics(atLimit)
    XCTAssertEqual(atLimit.routeTables.count, 1)

    let overLimit = load(document(nestedLists: depth))
    XCTAssertEqual(overLimit.errors.count, 1)
    XCTAssertEqual(overLimit.errors.first?.message.contains("nesting is deeper"), true)
    XCTAssertTrue(overLimit.routeTables.isEmpty)
  }

  // MARK: Size

  func testHugeScalar() {
    let name = String(repeating: "a", count: 5_000_000)
    let text =
      "apiVersion: portico.dev/v1\nkind: RouteTable\nmetadata:\n  name: \(name)\n  namespace: team\nspec: {}\n"
    let snapshot = load(text)
    // Loading or refusing are both fine; crashing is not.
    if let table = snapshot.routeTables.first {
      XCTAssertEqual(table.name.utf8.count, 5_000_000)
    } else {
      XCTAssertTrue(snapshot.allDiagnostics.hasErrors, "neither loaded nor reported")
    }
  }

  func testFileLargerThanTheLimitIsRefused() {
    let text = "# " + String(repeating: "x", count: YAMLComposer.maximumBytes)
    let snapshot = load(text, file: "big.yaml")
    XCTAssertEqual(snapshot.errors.map(\.description), ["big.yaml:1:1: file is larger than 16 MiB"])
  }

  func testBillionLaughs() {
    var lines = [
      "apiVersion: portico.dev/v1",
      "kind: RouteTable",
      "metadata: {name: lol, namespace: team}",
      "spec: {}",
      "status:",
      "  l0: &l0 [" + Array(repeating: "lol", count: 10).joined(separator: ", ") + "]",
    ]
    for level in 1..<10 {
      lines.append(
        "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
          + "]")
    }
    let text = lines.joined(separator: "\n") + "\n"

    var snapshot = ResourceSnapshot()
    let duration = elapsed { snapshot = load(text, file: "lol.yaml") }
    XCTAssertLessThan(duration, .seconds(5), "alias expansion must be cut off early")
    let errors = snapshot.errors
    XCTAssertEqual(errors.count, 1, describe(errors))
    XCTAssertEqual(errors.first?.message.contains("expands to more than"), true, describe(errors))
    XCTAssertEqual(errors.first?.location?.file, "lol.yaml")
    XCTAssertTrue(snapshot.routeTables.isEmpty)
  }

  func testBillionLaughsInAFieldThatIsNotDecodedIsHarmless() {
    var lines = [
      routeTableYAML(routes: "- directResponseAction: {status: 200}"),
      "lols:",
      "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    ]
    for level in 1..<12 {
      lines.append(
        "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
          + "]")
    }
    var snapshot = ResourceSnapshot()
    let duration = elapsed { snapshot = load(lines.joined(separator: "\n") + "\n") }
    XCTAssertLessThan(duration, .seconds(5))
    // Only the unknown field is reported; the table loads.
    XCTAssertEqual(snapshot.errors.count, 1, describe(snapshot.errors))
    expectDiagnostic(snapshot.errors, at: "lols", containing: "unknown field 'lols'")
    XCTAssertEqual(snapshot.routeTables.count, 1)
  }

  // MARK: Keys and aliases

  func testDuplicateKeys() {
    let error = expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n", containing: "duplicate key 'name'")
    XCTAssertEqual(error?.location?.line, 5)
    XCTAssertEqual(error?.location?.column, 3)

    expectFileError(#"{"kind": "Service", "kind": "Endpoints"}"#, containing: "duplicate key 'kind'")
  }

  func testUnknownAlias() {
    let error = expectFileError(
      "apiVersion: v1\nkind: Service\nmetadata: *nope\n", containing: "unknown alias *nope")
    XCTAssertEqual(error?.location?.line, 3)
    XCTAssertEqual(error?.location?.column, 11)
  }

  func testAnchorsDoNotLeakAcrossDocuments() {
    let text = """
      apiVersion: v1
      kind: Service
      metadata: &meta {name: a, namespace: team}
      spec: {ports: [{port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: *meta
      """
    let snapshot = load(text)
    XCTAssertEqual(snapshot.errors.count, 1)
    XCTAssertEqual(snapshot.errors.first?.message.contains("unknown alias *meta"), true)
    XCTAssertEqual(snapshot.services.map(\.name), ["a"], "documents before a syntax error still load")
  }

  func testLegitimateAliasesWork() {
    let text = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: a, namespace: team}
      spec:
        routes:
        - &ok {name: ok, directResponseAction: {status: 200}}
        - *ok
        - {name: other, matchers: &m [{uri: {prefix: /x}}], directResponseAction: {status: 204}}
        - {name: same-matchers, matchers: *m, directResponseAction: {status: 204}}
      """
    let snapshot = load(text)
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(
      snapshot.routeTables.first?.spec.routes?.map(\.name), ["ok", "ok", "other", "same-matchers"])
    XCTAssertEqual(snapshot.routeTables.first?.spec.routes?.last?.matchers?.first?.uri?.prefix, "/x")
  }

  func testComplexKeysAreRejected() {
    expectFileError("? [a, b]\n: c\n", containing: "mapping keys must be plain strings")
    expectFileError("{[a]: b}\n", containing: "mapping keys must be plain strings")
  }

  // MARK: Files

  func testNonUTF8FileInADirectory() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var bytes = Array("apiVersion: v1\nkind: Service\nmetadata: {name: ".utf8)
    bytes += [0xFF, 0xFE, 0xC3, 0x28]
    bytes += Array("}\n".utf8)
    try Data(bytes).write(to: directory.appendingPathComponent("bad.yaml"))
    try Data(routeTableYAML(routes: "- directResponseAction: {status: 200}").utf8)
      .write(to: directory.appendingPathComponent("good.yaml"))

    let snapshot = ManifestLoader().load(directory: directory.path, displayRoot: "config")
    XCTAssertEqual(snapshot.errors.map(\.description), ["config/bad.yaml:1:1: file is not UTF-8"])
    XCTAssertEqual(snapshot.routeTables.count, 1)
    XCTAssertTrue(snapshot.services.isEmpty)
  }

  func testRandomTokenSoupNeverCrashes() {
    let tokens = [
      "[", "]", "{", "}", ":", ": ", "- ", "-", " ", "  ", "\n", "\n  ", "&a ", "*a", "&b ", "*b", "'", "\"",
      "a",
      "kind", "RouteTable", "apiVersion", "portico.dev/v1", "spec", "routes", "metadata", "name", "?", "|",
      ">",
      "#", "!", "!!str ", "%", "@", "`", ",", "---\n", "...\n", "\t", "\\", "0", "-1", "1e9", "null", "~",
      "é",
    ]
    var generator = SplitMix64(seed: 0x5eed)
    for _ in 0..<400 {
      let count = Int(generator.next() % 120)
      var text = ""
      for _ in 0..<count { text += tokens[Int(generator.next() % UInt64(tokens.count))] }
      // Must return, whatever it says.
      _ = load(text).allDiagnostics
    }
  }

  func testThousandRouteTablesInADelegationCycleLoad() {
    let count = 1_000
    var documents: [String] = []
    documents.reserveCapacity(count)
    for index in 0..<count {
      documents.append(
        """
        apiVersion: portico.dev/v1
        kind: RouteTable
        metadata: {name: rt-\(index), namespace: loop, labels: {ring: "yes"}}
        spec:
          weight: \(index)
          routes:
          - name: next
            matchers: [{uri: {prefix: /x}}]
            delegateAction:
              refs: [{name: rt-\((index + 1) % count), namespace: loop}]
              selector: {labels: {ring: "yes"}}
        """)
    }
    let snapshot = load(documents.joined(separator: "\n---\n"))
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.routeTables.count, count)
    XCTAssertEqual(
      snapshot.routeTables.first { $0.name == "rt-999" }?.spec.routes?.first?.delegateAction?.refs?.first?
        .name, "rt-0")
  }
}

/// A small deterministic generator for the token fuzzer.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
