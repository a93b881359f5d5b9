import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

final class HostLookupTests: XCTestCase {
  /// One virtual host per entry, in order, each with a single catch-all route.
  private func router(_ domainLists: [[String]]) -> CompiledRouter {
    CompiledRouter(
      virtualHosts: domainLists.enumerated().map { position, domains in
        makeHost("host\(position)", domains: domains, routes: [makeRoute(path: .prefix("/"))])
      })
  }

  private func assertHost(
    _ router: CompiledRouter, _ authority: String, _ expected: Int?, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(
      router.hostPosition(for: authority), expected, "authority \(authority)", file: file, line: line)
    let outcome = router.route(request("/", host: authority))
    let explanation = router.explain(request("/", host: authority))
    if let expected {
      XCTAssertEqual(
        router.reduce(outcome), .match(route: 0, matcher: 0, host: expected), "authority \(authority)",
        file: file, line: line)
      XCTAssertEqual(outcome.match?.hostName, "host\(expected)", file: file, line: line)
      XCTAssertEqual(explanation.host?.config.name, "host\(expected)", file: file, line: line)
    } else {
      XCTAssertEqual(router.reduce(outcome), .noHost, "authority \(authority)", file: file, line: line)
      XCTAssertNil(explanation.host, file: file, line: line)
      XCTAssertNil(explanation.match, file: file, line: line)
      XCTAssertTrue(explanation.candidates.isEmpty, file: file, line: line)
    }
  }

  // MARK: Exact domains

  func testExactDomain() {
    let router = router([["api.example.com"], ["www.example.com"]])
    assertHost(router, "api.example.com", 0)
    assertHost(router, "www.example.com", 1)
    assertHost(router, "example.com", nil)
    assertHost(router, "api.example.co", nil)
    assertHost(router, "xapi.example.com", nil)
    assertHost(router, "api.example.com.evil", nil)
  }

  func testHostWithSeveralDomains() {
    let router = router([["a.example.com", "*.b.example.com", "c.*"], ["d.example.com"]])
    assertHost(router, "a.example.com", 0)
    assertHost(router, "x.b.example.com", 0)
    assertHost(router, "c.anything", 0)
    assertHost(router, "d.example.com", 1)
    assertHost(router, "e.example.com", nil)
  }

  func testExactDomainIsCaseInsensitive() {
    let router = router([["api.example.com"]])
    assertHost(router, "API.Example.COM", 0)
    assertHost(router, "api.EXAMPLE.com", 0)
  }

  func testNoMatchingHostIsNoHost() {
    let router = router([["api.example.com"], ["*.internal"], ["admin.*"]])
    assertHost(router, "other.example.com", nil)
    assertHost(router, "internal", nil)
    assertHost(router, "admin", nil)
    assertHost(router, "", nil)
    XCTAssertNil(router.explain(request("/", host: "nowhere.test")).host)
  }

  func testNoHostsAtAll() {
    let router = CompiledRouter(virtualHosts: [])
    XCTAssertEqual(router.lookup(request("/", host: "example.com")), .noHost)
    XCTAssertNil(router.host(for: "example.com"))
  }

  // MARK: Precedence

  func testExactBeatsEverythingWhateverTheOrder() {
    let router = router([["*"], ["api.*"], ["*.example.com"], ["api.example.com"]])
    assertHost(router, "api.example.com", 3)
    assertHost(router, "API.EXAMPLE.COM:8443", 3)
  }

  func testSuffixWildcardBeatsPrefixWildcard() {
    let router = router([["api.*"], ["*.example.com"], ["*"]])
    assertHost(router, "api.example.com", 1)
    assertHost(router, "api.example.org", 0)
    assertHost(router, "www.example.com", 1)
    assertHost(router, "www.example.org", 2)
  }

  func testPrefixWildcardBeatsCatchAll() {
    let router = router([["*"], ["api.*"]])
    assertHost(router, "api.internal", 1)
    assertHost(router, "api.example.com", 1)
    assertHost(router, "web.internal", 0)
    assertHost(router, "api", 0)
  }

  func testSuffixWildcardBeatsCatchAll() {
    let router = router([["*"], ["*.example.com"]])
    assertHost(router, "www.example.com", 1)
    assertHost(router, "www.example.org", 0)
  }

  func testCatchAllTakesWhatNothingElseMatches() {
    let router = router([["api.example.com"], ["*"]])
    assertHost(router, "api.example.com", 0)
    assertHost(router, "anything.at.all", 1)
    assertHost(router, "localhost:8080", 1)
    assertHost(router, "[::1]:8080", 1)
  }

  func testLongestSuffixWildcardWins() {
    // Listed shortest first, so listing order cannot be what decides.
    let router = router([["*.com"], ["*.example.com"], ["*.api.example.com"]])
    assertHost(router, "v1.api.example.com", 2)
    assertHost(router, "api.example.com", 1)
    assertHost(router, "www.example.com", 1)
    assertHost(router, "foo.com", 0)
    assertHost(router, "foo.org", nil)

    let reversed = self.router([["*.api.example.com"], ["*.example.com"], ["*.com"]])
    assertHost(reversed, "v1.api.example.com", 0)
    assertHost(reversed, "www.example.com", 1)
    assertHost(reversed, "foo.com", 2)
  }

  func testSuffixWildcardWithoutDot() {
    let router = router([["*example.com"], ["*-bar.foo.com"]])
    assertHost(router, "myexample.com", 0)
    assertHost(router, "www.example.com", 0)
    assertHost(router, "x-bar.foo.com", 1)
    assertHost(router, "x.bar.foo.com", nil)
  }

  func testLongestPrefixWildcardWins() {
    let router = router([["api.*"], ["api.v1.*"], ["a*"]])
    assertHost(router, "api.v1.example.com", 1)
    assertHost(router, "api.v2.example.com", 0)
    assertHost(router, "admin.example.com", 2)
    assertHost(router, "b.example.com", nil)

    let reversed = self.router([["a*"], ["api.v1.*"], ["api.*"]])
    assertHost(reversed, "api.v1.example.com", 1)
    assertHost(reversed, "api.v2.example.com", 2)
    assertHost(reversed, "admin.example.com", 0)
  }

  func testLongerPrefixWildcardDoesNotBeatShorterSuffixWildcard() {
    let router = router([["very.long.prefix.*"], ["*.io"]])
    assertHost(router, "very.long.prefix.io", 1)
    assertHost(router, "very.long.prefix.org", 0)
  }

  func testWildcardsAreCaseInsensitive() {
    let router = router([["*.example.com"], ["api.*"]])
    assertHost(router, "WWW.EXAMPLE.COM", 0)
    assertHost(router, "Www.Example.Com:80", 0)
    assertHost(router, "API.internal", 1)
    assertHost(router, "Api.Internal:9000", 1)
  }

  // MARK: Wildcards never match an empty part

  func testSuffixWildcardNeedsANonEmptyPart() {
    let dot = router([["*.foo.com"]])
    assertHost(dot, ".foo.com", nil)
    assertHost(dot, "foo.com", nil)
    assertHost(dot, "a.foo.com", 0)
    assertHost(dot, "-bar.foo.com", 0)
    // The port is not the wildcard's part.
    assertHost(dot, ".foo.com:8080", nil)

    let dash = router([["*-bar.foo.com"]])
    assertHost(dash, "-bar.foo.com", nil)
    assertHost(dash, "bar.foo.com", nil)
    assertHost(dash, "a-bar.foo.com", 0)
    assertHost(dash, "-bar.foo.com:8080", nil)

    // Both: the longer suffix decides where it applies, the shorter one takes `-bar.foo.com`.
    let both = router([["*.foo.com"], ["*-bar.foo.com"]])
    assertHost(both, "a-bar.foo.com", 1)
    assertHost(both, "-bar.foo.com", 0)
    assertHost(both, ".foo.com", nil)
  }

  func testPrefixWildcardNeedsANonEmptyPart() {
    let router = router([["foo.*"], ["foo-*"]])
    assertHost(router, "foo.", nil)
    assertHost(router, "foo", nil)
    assertHost(router, "foo-", nil)
    assertHost(router, "foo.x", 0)
    assertHost(router, "foo-x", 1)
    assertHost(router, "foo.:8080", nil)
    assertHost(router, "foo-:8080", nil)
  }

  func testEmptyPartFallsThroughToTheNextRule() {
    // `.foo.com` is not matched by `*.foo.com`, so the next applicable rule decides.
    let router = router([["*.foo.com"], [".foo.*"], ["*"]])
    assertHost(router, ".foo.com", 1)
    assertHost(router, "x.foo.com", 0)
    let noPrefix = self.router([["*.foo.com"], ["*"]])
    assertHost(noPrefix, ".foo.com", 1)
    assertHost(noPrefix, "-", 1)
  }

  // MARK: Ports and IPv6

  func testPortIsIgnored() {
    let router = router([["example.com"], ["*.example.org"], ["internal.*"]])
    assertHost(router, "example.com:8080", 0)
    assertHost(router, "example.com:443", 0)
    assertHost(router, "EXAMPLE.COM:80", 0)
    assertHost(router, "www.example.org:8443", 1)
    assertHost(router, "internal.svc:9000", 2)
    assertHost(router, "example.net:8080", nil)
  }

  func testPortDoesNotTakePartInMatching() {
    // `example.com:8080` is host `example.com`; `*.com:8080`-like confusion must not arise.
    let router = router([["8080"], ["*.8080"]])
    assertHost(router, "example.com:8080", nil)
    assertHost(router, "localhost:8080", nil)
  }

  func testIPv6LiteralKeepsBrackets() {
    let router = router([["[::1]"], ["[fe80::1]"], ["::1"]])
    assertHost(router, "[::1]:8080", 0)
    assertHost(router, "[::1]", 0)
    assertHost(router, "[fe80::1]:443", 1)
    assertHost(router, "[FE80::1]:443", 1)
    assertHost(router, "[::2]:8080", nil)
    assertHost(router, "[::2]", nil)
  }

  func testIPv6LiteralWithCatchAll() {
    let router = router([["*"], ["[::1]"]])
    assertHost(router, "[::1]:8080", 1)
    assertHost(router, "[::2]:8080", 0)
  }

  func testIPv4WithPort() {
    let router = router([["10.0.0.1"], ["10.0.*"]])
    assertHost(router, "10.0.0.1:8080", 0)
    assertHost(router, "10.0.0.2:8080", 1)
    assertHost(router, "10.1.0.1", nil)
  }

  // MARK: The host decides which routes apply

  func testRoutesAreLookedUpInTheChosenHost() {
    let router = CompiledRouter(virtualHosts: [
      makeHost("a", domains: ["a.example.com"], routes: [makeRoute("a0", path: .exact("/a"))]),
      makeHost(
        "b", domains: ["*.example.com"],
        routes: [makeRoute("b0", path: .exact("/x")), makeRoute("b1", path: .exact("/b"))]),
    ])
    XCTAssertEqual(
      router.checkedRoute(request("/a", host: "a.example.com")), .match(route: 0, matcher: 0, host: 0))
    XCTAssertEqual(router.checkedRoute(request("/b", host: "a.example.com")), .noRoute(host: 0))
    XCTAssertEqual(
      router.checkedRoute(request("/b", host: "b.example.com")), .match(route: 1, matcher: 0, host: 1))
    XCTAssertEqual(router.checkedRoute(request("/a", host: "b.example.com")), .noRoute(host: 1))
    XCTAssertEqual(router.route(request("/b", host: "B.Example.Com:8080")).match?.routeName, "b1")
  }
}
