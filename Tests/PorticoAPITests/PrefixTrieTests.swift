import PorticoAPI
import XCTest

/// PorticoCore's PrefixTrie and ASCII helpers (PorticoCore is re-exported by PorticoAPI).
final class PrefixTrieTests: XCTestCase {
  private func prefixes(_ trie: PrefixTrie<String>, of input: String, lowercasing: Bool = false) -> [String] {
    var found: [String] = []
    if lowercasing {
      trie.forEachPrefix(of: input, folding: { $0.asciiLowercased }) { found.append($0) }
    } else {
      trie.forEachPrefix(of: input) { found.append($0) }
    }
    return found
  }

  func testEmpty() {
    let trie = PrefixTrie<String>()
    XCTAssertTrue(trie.isEmpty)
    XCTAssertEqual(prefixes(trie, of: "/anything"), [])
    XCTAssertEqual(trie.values(at: ""), [])
  }

  func testAllPrefixesShortestFirst() {
    var trie = PrefixTrie<String>()
    for key in ["/api/v1", "/", "/api", "/apix", "/other"] { trie.insert(key, key) }
    XCTAssertFalse(trie.isEmpty)
    XCTAssertEqual(prefixes(trie, of: "/api/v1/items"), ["/", "/api", "/api/v1"])
    XCTAssertEqual(prefixes(trie, of: "/api"), ["/", "/api"])
    XCTAssertEqual(prefixes(trie, of: "/ap"), ["/"])
    XCTAssertEqual(prefixes(trie, of: "/apix/1"), ["/", "/api", "/apix"])
    XCTAssertEqual(prefixes(trie, of: "api"), [])
    XCTAssertEqual(prefixes(trie, of: ""), [])
  }

  func testEmptyKeyMatchesEverything() {
    var trie = PrefixTrie<String>()
    trie.insert("", "root")
    XCTAssertFalse(trie.isEmpty)
    XCTAssertEqual(prefixes(trie, of: ""), ["root"])
    XCTAssertEqual(prefixes(trie, of: "/x"), ["root"])
  }

  func testSeveralValuesPerKeyKeepInsertionOrder() {
    var trie = PrefixTrie<String>()
    trie.insert("/a", "first")
    trie.insert("/a", "second")
    trie.insert("/a/b", "deeper")
    XCTAssertEqual(trie.values(at: "/a"), ["first", "second"])
    XCTAssertEqual(trie.values(at: "/a/"), [])
    XCTAssertEqual(trie.values(at: "/zzz"), [])
    XCTAssertEqual(prefixes(trie, of: "/a/b/c"), ["first", "second", "deeper"])
  }

  func testCaseFolding() {
    var trie = PrefixTrie<String>()
    trie.insert("/api", "api")  // keys of a case-insensitive trie are stored lowercased
    XCTAssertEqual(prefixes(trie, of: "/API/x"), [])
    XCTAssertEqual(prefixes(trie, of: "/API/x", lowercasing: true), ["api"])
    XCTAssertEqual(prefixes(trie, of: "/Api", lowercasing: true), ["api"])
  }

  func testUTF8Keys() {
    var trie = PrefixTrie<Int>()
    trie.insert("/é", 1)
    trie.insert("/e", 2)
    var found: [Int] = []
    trie.forEachPrefix(of: "/été") { found.append($0) }
    XCTAssertEqual(found, [1])
    XCTAssertEqual(trie.values(at: Substring("/é")), [1])
  }

  func testManyKeys() {
    var trie = PrefixTrie<Int>()
    for index in 0..<2_000 { trie.insert("/svc/\(index)", index) }
    XCTAssertEqual(trie.values(at: "/svc/1234"), [1234])
    var found: [Int] = []
    trie.forEachPrefix(of: "/svc/1999/x") { found.append($0) }
    XCTAssertEqual(found, [1, 19, 199, 1999])
  }

  // MARK: ASCII helpers

  func testASCIILowercasing() {
    XCTAssertEqual("HeLLo-WORLD_09".asciiLowercased, "hello-world_09")
    // Only ASCII letters change.
    XCTAssertEqual("ÄÉ/@[`{".asciiLowercased, "ÄÉ/@[`{")
    XCTAssertEqual(UInt8(ascii: "A").asciiLowercased, UInt8(ascii: "a"))
    XCTAssertEqual(UInt8(ascii: "Z").asciiLowercased, UInt8(ascii: "z"))
    XCTAssertEqual(UInt8(ascii: "@").asciiLowercased, UInt8(ascii: "@"))
    XCTAssertEqual(UInt8(ascii: "[").asciiLowercased, UInt8(ascii: "["))
    XCTAssertEqual(UInt8(0xC3).asciiLowercased, 0xC3)
  }

  func testCaseInsensitiveComparisons() {
    XCTAssertTrue("Content-Type".equalsIgnoringASCIICase("content-type"))
    XCTAssertFalse("Content-Type".equalsIgnoringASCIICase("content-typ"))
    XCTAssertFalse("É".equalsIgnoringASCIICase("é"))

    XCTAssertTrue("/API/v1".hasPrefix("/api", ignoringASCIICase: true))
    XCTAssertFalse("/API/v1".hasPrefix("/api", ignoringASCIICase: false))
    XCTAssertTrue("/API/v1".hasPrefix("/API", ignoringASCIICase: false))
    XCTAssertFalse("/a".hasPrefix("/api", ignoringASCIICase: true))

    XCTAssertTrue("file.JSON".hasSuffix(".json", ignoringASCIICase: true))
    XCTAssertFalse("file.JSON".hasSuffix(".json", ignoringASCIICase: false))
    XCTAssertTrue("file.json".hasSuffix(".json", ignoringASCIICase: false))
    XCTAssertFalse("n".hasSuffix(".json", ignoringASCIICase: true))
  }

  /// Substrings compare by their own bytes, not those of the string around them.
  func testCaseInsensitiveComparisonsOfSubstrings() {
    let line = "é X-Token: Bearer ABC.def"
    let name = line.dropFirst(2).prefix(7)
    XCTAssertTrue(name.equalsIgnoringASCIICase("x-token"))
    XCTAssertTrue("X-TOKEN".equalsIgnoringASCIICase(name))
    XCTAssertFalse(name.equalsIgnoringASCIICase("x-toke"))
    XCTAssertFalse(name.equalsIgnoringASCIICase("x-tokens"))
    let value = line.dropFirst(11)
    XCTAssertTrue(value.hasPrefix("bearer ", ignoringASCIICase: true))
    XCTAssertFalse(value.hasPrefix("bearer ", ignoringASCIICase: false))
    XCTAssertTrue(value.hasSuffix(".DEF", ignoringASCIICase: true))
    XCTAssertFalse(value.dropLast().hasSuffix(".def", ignoringASCIICase: true))
    XCTAssertTrue(line.dropLast(4).hasSuffix("abc", ignoringASCIICase: true))
  }
}
