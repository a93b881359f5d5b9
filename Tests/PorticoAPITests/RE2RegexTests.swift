import Foundation
import PorticoAPI
import XCTest

/// RE2Regex (PorticoCore, re-exported by PorticoAPI) and the snapshot's RegexTable.
final class RE2RegexTests: XCTestCase {
  func testFullMatchSemantics() throws {
    let regex = try RE2Regex("/a.*")
    XCTAssertTrue(regex.matchesWhole("/a"))
    XCTAssertTrue(regex.matchesWhole("/abc/def"))
    // Whole-string: no implicit search for a match inside the text.
    XCTAssertFalse(regex.matchesWhole("x/a"))
    XCTAssertFalse(regex.matchesWhole("/"))

    let exact = try RE2Regex("/api/v[0-9]+")
    XCTAssertTrue(exact.matchesWhole("/api/v12"))
    XCTAssertFalse(exact.matchesWhole("/api/v12/items"))
    XCTAssertFalse(exact.matchesWhole("/x/api/v12"))
  }

  func testEmptyPatternMatchesOnlyTheEmptyString() throws {
    let empty = try RE2Regex("")
    XCTAssertTrue(empty.matchesWhole(""))
    XCTAssertFalse(empty.matchesWhole("a"))
  }

  func testMatchesSubstrings() throws {
    let regex = try RE2Regex("/a.*")
    let text = "xx/abc"
    XCTAssertTrue(regex.matchesWhole(text.dropFirst(2)))
    XCTAssertFalse(regex.matchesWhole(text.dropFirst(1)))
  }

  func testUTF8() throws {
    let regex = try RE2Regex("é+/ü")
    XCTAssertTrue(regex.matchesWhole("éé/ü"))
    XCTAssertFalse(regex.matchesWhole("ee/u"))
  }

  func testIgnoringCase() throws {
    let insensitive = try RE2Regex("/API/v[0-9]", ignoringCase: true)
    XCTAssertTrue(insensitive.ignoresCase)
    XCTAssertTrue(insensitive.matchesWhole("/api/V1"))
    XCTAssertTrue(insensitive.matchesWhole("/Api/v2"))

    let sensitive = try RE2Regex("/API/v[0-9]")
    XCTAssertFalse(sensitive.ignoresCase)
    XCTAssertTrue(sensitive.matchesWhole("/API/v1"))
    XCTAssertFalse(sensitive.matchesWhole("/api/v1"))
    XCTAssertEqual(sensitive.pattern, "/API/v[0-9]")
  }

  func testEscapeMakesTextMatchItselfLiterally() throws {
    XCTAssertEqual(RE2Regex.escape("a.b*c"), #"a\.b\*c"#)
    XCTAssertEqual(RE2Regex.escape("abc_123"), "abc_123")
    XCTAssertEqual(RE2Regex.escape(""), "")

    for text in ["/v1.0/(x)", "a+b?", "[x]{2}", "^$|\\", "price: $5.00", "/é/ü"] {
      let regex = try RE2Regex(RE2Regex.escape(text))
      XCTAssertTrue(regex.matchesWhole(text), text)
      XCTAssertFalse(regex.matchesWhole(text + "x"), text)
    }
    // The dot is literal once escaped.
    let escaped = try RE2Regex(RE2Regex.escape("/v1.0"))
    XCTAssertFalse(escaped.matchesWhole("/v1x0"))
    // An escaped prefix anchors a child regex (§11.3).
    let anchored = try RE2Regex(RE2Regex.escape("/api.v1") + "/items/[0-9]+")
    XCTAssertTrue(anchored.matchesWhole("/api.v1/items/42"))
    XCTAssertFalse(anchored.matchesWhole("/apixv1/items/42"))
  }

  func testRejectedPatterns() {
    for pattern in [#"(a)\1"#, "(?=x)", "a(?!b)", "(?<=a)b", "(unclosed", "[", "a{1001}"] {
      XCTAssertThrowsError(try RE2Regex(pattern), pattern) { error in
        guard let error = error as? RE2Regex.CompileError else {
          return XCTFail("wrong error type: \(error)")
        }
        XCTAssertEqual(error.pattern, pattern)
        XCTAssertFalse(error.reason.isEmpty)
        XCTAssertTrue(error.description.hasPrefix("invalid regex '\(pattern)': "), error.description)
      }
    }
  }

  func testCompileErrorReason() {
    do throws(RE2Regex.CompileError) {
      _ = try RE2Regex(#"(a)\1"#)
      XCTFail("a backreference must not compile")
    } catch {
      XCTAssertTrue(error.reason.contains(#"\1"#), error.reason)
    }
  }

  func testLinearTimeOnCatastrophicBacktrackingInput() throws {
    let regex = try RE2Regex("(a+)+$")
    let text = String(repeating: "a", count: 30_000) + "b"
    var matched = true
    let duration = elapsed { matched = regex.matchesWhole(text) }
    XCTAssertFalse(matched)
    XCTAssertLessThan(duration, .seconds(2))
    XCTAssertTrue(regex.matchesWhole(String(repeating: "a", count: 30_000)))
  }

  func testLinearTimeOnNestedQuantifiers() throws {
    let regex = try RE2Regex("(x+x+)+y")
    let text = String(repeating: "x", count: 50_000)
    var matched = true
    let duration = elapsed { matched = regex.matchesWhole(text) }
    XCTAssertFalse(matched)
    XCTAssertLessThan(duration, .seconds(2))
  }

  func testRegexIsSharableAcrossThreads() throws {
    let regex = try RE2Regex("/items/[0-9]+")
    let results = Results()
    DispatchQueue.concurrentPerform(iterations: 64) { index in
      results.set(index, regex.matchesWhole("/items/\(index)") && !regex.matchesWhole("/items/x\(index)"))
    }
    let all = results.all
    XCTAssertEqual(all.count, 64)
    XCTAssertTrue(all.values.allSatisfy { $0 })
  }

  private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Bool] = [:]

    func set(_ index: Int, _ value: Bool) {
      lock.lock()
      values[index] = value
      lock.unlock()
    }

    var all: [Int: Bool] {
      lock.lock()
      defer { lock.unlock() }
      return values
    }
  }

  // MARK: RegexTable

  func testRegexTableCompilesOnceAndLooksUp() throws {
    var table = RegexTable()
    XCTAssertNil(table.lookup("/a.*"))
    let first = try table.regex("/a.*")
    let second = try table.regex("/a.*")
    XCTAssertTrue(first === second)
    XCTAssertTrue(table.lookup("/a.*") === first)
    // Case sensitivity is part of the key.
    XCTAssertNil(table.lookup("/a.*", ignoringCase: true))
    let insensitive = try table.regex("/a.*", ignoringCase: true)
    XCTAssertFalse(insensitive === first)
    XCTAssertTrue(insensitive.ignoresCase)
    XCTAssertTrue(table.lookup("/a.*", ignoringCase: true) === insensitive)
  }

  func testRegexTableRejectsBadPatterns() {
    var table = RegexTable()
    XCTAssertThrowsError(try table.regex("(?=x)"))
    XCTAssertNil(table.lookup("(?=x)"))
  }

  func testSnapshotSharesOneCompiledRegexAcrossResources() {
    let snapshot = load(
      routeTableYAML(
        name: "a",
        routes: """
          - matchers: [{uri: {regex: '/shared/.*'}}]
            directResponseAction: {status: 200}
          """)
        + "---\n"
        + routeTableYAML(
          name: "b",
          routes: """
            - matchers: [{uri: {regex: '/shared/.*'}}, {uri: {regex: '/only-b'}}]
              directResponseAction: {status: 200}
            """))
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.routeTables.count, 2)
    XCTAssertNotNil(snapshot.regexes.lookup("/shared/.*"))
    XCTAssertNotNil(snapshot.regexes.lookup("/only-b"))
  }

  /// Capturing groups of a whole match, as extractors read them: the group's bytes, nothing for a group
  /// that took no part, and no match at all when the pattern does not cover the whole text.
  func testGroupsOfAWholeMatch() throws {
    let regex = try RE2Regex("/orders/([0-9]+)(?:/(notes))?")
    XCTAssertEqual(regex.groupCount, 2)
    func group(_ text: String, _ number: Int) -> String?? {
      Array(text.utf8).withUnsafeBytes { bytes in
        regex.wholeMatch(of: bytes, group: number).map { range in
          range.map { String(decoding: bytes[$0], as: UTF8.self) }
        }
      }
    }
    XCTAssertEqual(group("/orders/42", 1), .some("42"))
    XCTAssertEqual(group("/orders/42", 0), .some("/orders/42"))
    XCTAssertEqual(group("/orders/42", 2), .some(nil), "the optional group took no part")
    XCTAssertEqual(group("/orders/42/notes", 2), .some("notes"))
    XCTAssertNil(group("/orders/42/x", 1), "not a whole match")
    XCTAssertNil(group("/orders/42", 3), "no such group")
  }
}
