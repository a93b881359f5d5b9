import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

/// The first route in listed order with a matching matcher wins, whichever index structure each route is
/// filed in (exact hash tables, case-sensitive and folded prefix tries, always-candidates).
final class FirstMatchTests: XCTestCase {
  private func matcher(_ path: PathMatcher, methods: [String] = []) -> RouteMatcher {
    RouteMatcher(path: path, methods: methods)
  }

  private func regexPath(_ pattern: String, after opening: String? = nil) -> PathMatcher {
    PathMatcher(pieces: opening.map { [piece($0)] } ?? [], tail: .regex(re(pattern)))
  }

  private func suffixPath(_ suffix: String, after opening: String? = nil) -> PathMatcher {
    PathMatcher(pieces: opening.map { [piece($0)] } ?? [], tail: .suffix(piece(suffix)))
  }

  // MARK: Across index structures

  func testRegexRouteBeforeExactRouteWins() {
    let router = makeRouter([
      makeRoute("regex", path: regexPath("/users/[0-9]+")),
      makeRoute("exact", path: .exact("/users/42")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/users/42")), .match(0))
    XCTAssertEqual(router.route(request("/users/42")).match?.routeName, "regex")
    XCTAssertEqual(router.checkedRoute(request("/users/x")), .noRoute(host: 0))
  }

  func testExactRouteBeforeRegexRouteWins() {
    let router = makeRouter([
      makeRoute("exact", path: .exact("/users/42")),
      makeRoute("regex", path: regexPath("/users/[0-9]+")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/users/42")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/users/43")), .match(1))
  }

  func testRegexWithOpeningBeforeExactRouteWins() {
    let router = makeRouter([
      makeRoute("regex", path: regexPath("/v[0-9]+", after: "/api")),
      makeRoute("exact", path: .exact("/api/v1")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/api/v1")), .match(0))
  }

  func testPrefixRouteBeforeExactRouteWins() {
    let router = makeRouter([
      makeRoute("prefix", path: .prefix("/api")),
      makeRoute("exact", path: .exact("/api/users")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/api/users")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/api")), .match(0))
  }

  func testExactRouteBeforePrefixRouteWins() {
    let router = makeRouter([
      makeRoute("exact", path: .exact("/api/users")),
      makeRoute("prefix", path: .prefix("/api")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/api/users")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/api/users/1")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/api")), .match(1))
  }

  func testShorterPrefixListedFirstWins() {
    let router = makeRouter([
      makeRoute("short", path: .prefix("/a")),
      makeRoute("long", path: .prefix("/a/b")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a/b/c")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/a/c")), .match(0))
  }

  func testLongerPrefixListedFirstWins() {
    let router = makeRouter([
      makeRoute("long", path: .prefix("/a/b")),
      makeRoute("short", path: .prefix("/a")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a/b/c")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/a/c")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/b")), .noRoute(host: 0))
  }

  func testAlwaysCandidateListedFirstWins() {
    // No literal pieces: suffix, regex and empty prefix matchers are always candidates.
    let suffixFirst = makeRouter([
      makeRoute("suffix", path: suffixPath(".json")),
      makeRoute("exact", path: .exact("/a.json")),
      makeRoute("prefix", path: .prefix("/a")),
    ])
    XCTAssertEqual(suffixFirst.checkedRoute(request("/a.json")), .match(0))
    XCTAssertEqual(suffixFirst.checkedRoute(request("/a.xml")), .match(2))

    let regexFirst = makeRouter([
      makeRoute("regex", path: regexPath(".*")),
      makeRoute("exact", path: .exact("/a")),
    ])
    XCTAssertEqual(regexFirst.checkedRoute(request("/a")), .match(0))

    let emptyPrefixFirst = makeRouter([
      makeRoute("everything", path: PathMatcher(pieces: [], tail: .anything)),
      makeRoute("exact", path: .exact("/a")),
      makeRoute("prefix", path: .prefix("/")),
    ])
    XCTAssertEqual(emptyPrefixFirst.checkedRoute(request("/a")), .match(0))
    XCTAssertEqual(emptyPrefixFirst.checkedRoute(request("/b")), .match(0))
  }

  func testAlwaysCandidateListedLastLoses() {
    let router = makeRouter([
      makeRoute("exact", path: .exact("/a.json")),
      makeRoute("prefix", path: .prefix("/b")),
      makeRoute("suffix", path: suffixPath(".json")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a.json")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/b.json")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/c.json")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/c.xml")), .noRoute(host: 0))
  }

  func testIgnoreCaseExactAndCaseSensitiveExactKeepListedOrder() {
    let foldedFirst = makeRouter([
      makeRoute("folded", path: .exact("/A", ignoresCase: true)),
      makeRoute("plain", path: .exact("/a")),
    ])
    XCTAssertEqual(foldedFirst.checkedRoute(request("/a")), .match(0))
    XCTAssertEqual(foldedFirst.checkedRoute(request("/A")), .match(0))

    let plainFirst = makeRouter([
      makeRoute("plain", path: .exact("/a")),
      makeRoute("folded", path: .exact("/A", ignoresCase: true)),
    ])
    XCTAssertEqual(plainFirst.checkedRoute(request("/a")), .match(0))
    XCTAssertEqual(plainFirst.checkedRoute(request("/A")), .match(1))
  }

  func testIgnoreCasePrefixAndCaseSensitivePrefixKeepListedOrder() {
    let plainFirst = makeRouter([
      makeRoute("plain", path: .prefix("/api/v1")),
      makeRoute("folded", path: .prefix("/API", ignoresCase: true)),
    ])
    XCTAssertEqual(plainFirst.checkedRoute(request("/api/v1/x")), .match(0))
    XCTAssertEqual(plainFirst.checkedRoute(request("/Api/v1/x")), .match(1))
    XCTAssertEqual(plainFirst.checkedRoute(request("/api/v2")), .match(1))

    let foldedFirst = makeRouter([
      makeRoute("folded", path: .prefix("/API", ignoresCase: true)),
      makeRoute("plain", path: .prefix("/api/v1")),
    ])
    XCTAssertEqual(foldedFirst.checkedRoute(request("/api/v1/x")), .match(0))
  }

  func testMixedCaseExactIsFoundAmongOtherRoutes() {
    // A multi-piece exact path is filed under its first piece, not in the exact table.
    let router = makeRouter([
      makeRoute("other", path: .exact("/api/users")),
      makeRoute(
        "mixed", path: PathMatcher(pieces: [piece("/api"), piece("/Users", ignoresCase: true)], tail: .end)),
      makeRoute(
        "folded-first", path: PathMatcher(pieces: [piece("/X", ignoresCase: true), piece("/y")], tail: .end)),
    ])
    XCTAssertEqual(router.checkedRoute(request("/api/users")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/api/USERS")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/API/USERS")), .noRoute(host: 0))
    XCTAssertEqual(router.checkedRoute(request("/x/y")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/X/y")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/x/Y")), .noRoute(host: 0))
  }

  func testSeveralRoutesUnderTheSameKey() {
    let router = makeRouter([
      makeRoute("post", matcher(.exact("/a"), methods: ["POST"])),
      makeRoute("put", matcher(.exact("/a"), methods: ["PUT"])),
      makeRoute("any", matcher(.exact("/a"))),
      makeRoute("prefix-post", matcher(.prefix("/b"), methods: ["POST"])),
      makeRoute("prefix-any", matcher(.prefix("/b"))),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a", method: "POST")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/a", method: "PUT")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/a", method: "GET")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/b", method: "POST")), .match(3))
    XCTAssertEqual(router.checkedRoute(request("/b", method: "GET")), .match(4))
  }

  // MARK: Conditions decide before order moves on

  func testEarlierRouteFailingAConditionFallsThrough() {
    let router = makeRouter([
      makeRoute(
        "canary",
        RouteMatcher(path: .prefix("/"), headers: [HeaderCondition(name: "x-canary", value: .present)])),
      makeRoute(
        "v2",
        RouteMatcher(path: .prefix("/"), queryParameters: [QueryCondition(name: "v", value: .exact("2"))])),
      makeRoute("post", matcher(.exact("/a"), methods: ["POST"])),
      makeRoute("fallback", path: .prefix("/")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a", headers: [("X-Canary", "1")])), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/a?v=2")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/a", method: "POST")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/a")), .match(3))
    XCTAssertEqual(
      router.checkedRoute(request("/a?v=2", method: "POST", headers: [("x-canary", "")])), .match(0))
  }

  func testContradictoryMethodsNeverWin() {
    let router = makeRouter([
      makeRoute("never", matcher(.exact("/a"), methods: ["GET", "POST"])),
      makeRoute("get", matcher(.exact("/a"), methods: ["GET"])),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a", method: "GET")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/a", method: "POST")), .noRoute(host: 0))
  }

  // MARK: Matchers within a route

  func testFirstMatchingMatcherOfARouteIsReported() {
    let router = makeRouter([
      makeRoute("r", [RouteMatcher(path: .prefix("/x")), RouteMatcher(path: .prefix("/"))])
    ])
    XCTAssertEqual(router.checkedRoute(request("/x/1")), .match(0, 0))
    XCTAssertEqual(router.checkedRoute(request("/y")), .match(0, 1))
    let match = router.route(request("/y")).match
    XCTAssertEqual(match?.matcher, RouteMatcher(path: .prefix("/")))
  }

  func testMatcherOrderAcrossIndexStructures() {
    // Matcher 0 is in a prefix trie, matcher 1 in the exact table: both match, matcher 0 is reported.
    let prefixThenExact = makeRouter([makeRoute("r", [matcher(.prefix("/a")), matcher(.exact("/a/b"))])])
    XCTAssertEqual(prefixThenExact.checkedRoute(request("/a/b")), .match(0, 0))

    let exactThenPrefix = makeRouter([makeRoute("r", [matcher(.exact("/a/b")), matcher(.prefix("/a"))])])
    XCTAssertEqual(exactThenPrefix.checkedRoute(request("/a/b")), .match(0, 0))
    XCTAssertEqual(exactThenPrefix.checkedRoute(request("/a/c")), .match(0, 1))

    // An always-candidate matcher first: looked at last by the index, but it is still the first matcher.
    let regexThenExact = makeRouter([
      makeRoute("r", [RouteMatcher(path: regexPath("/a/.*")), matcher(.exact("/a/b"))])
    ])
    XCTAssertEqual(regexThenExact.checkedRoute(request("/a/b")), .match(0, 0))

    let foldedThenExact = makeRouter([
      makeRoute("r", [matcher(.exact("/A/B", ignoresCase: true)), matcher(.exact("/a/b"))])
    ])
    XCTAssertEqual(foldedThenExact.checkedRoute(request("/a/b")), .match(0, 0))
    XCTAssertEqual(foldedThenExact.checkedRoute(request("/A/b")), .match(0, 0))

    let exactThenFolded = makeRouter([
      makeRoute("r", [matcher(.exact("/a/b")), matcher(.exact("/A/B", ignoresCase: true))])
    ])
    XCTAssertEqual(exactThenFolded.checkedRoute(request("/a/b")), .match(0, 0))
    XCTAssertEqual(exactThenFolded.checkedRoute(request("/A/b")), .match(0, 1))
  }

  func testLaterMatcherOfAnEarlierRouteBeatsALaterRoute() {
    let router = makeRouter([
      makeRoute("r0", [matcher(.exact("/nope")), matcher(.prefix("/p"))]),
      makeRoute("r1", [matcher(.exact("/p/q"))]),
    ])
    XCTAssertEqual(router.checkedRoute(request("/p/q")), .match(0, 1))
    XCTAssertEqual(router.route(request("/p/q")).match?.routeName, "r0")
  }

  func testMatchersOfARouteAreAlternatives() {
    let router = makeRouter([
      makeRoute(
        "r",
        [
          RouteMatcher(path: .exact("/a"), methods: ["GET"]),
          RouteMatcher(path: .exact("/a"), headers: [HeaderCondition(name: "x-h", value: .present)]),
          RouteMatcher(path: .prefix("/b")),
        ])
    ])
    XCTAssertEqual(router.checkedRoute(request("/a", method: "GET")), .match(0, 0))
    XCTAssertEqual(router.checkedRoute(request("/a", method: "POST", headers: [("x-h", "")])), .match(0, 1))
    XCTAssertEqual(router.checkedRoute(request("/a", method: "POST")), .noRoute(host: 0))
    XCTAssertEqual(router.checkedRoute(request("/b/c", method: "DELETE")), .match(0, 2))
  }

  // MARK: Outcome contents

  func testMatchCarriesTheRouteAndHost() {
    let router = CompiledRouter(virtualHosts: [
      makeHost("first", domains: ["first.test"], routes: [makeRoute("f", path: .prefix("/"))]),
      makeHost(
        "second", domains: ["second.test"],
        routes: [
          makeRoute("s0", path: .exact("/x")),
          makeRoute("s1", RouteMatcher(path: .prefix("/y")), status: 204),
        ]
      ),
    ])
    guard case .matched(let match) = router.route(request("/y/z", host: "second.test")) else {
      return XCTFail("expected a match")
    }
    XCTAssertTrue(match.host === router.hosts[1])
    XCTAssertTrue(match.route === router.hosts[1].routes[1])
    XCTAssertEqual(match.route.position, 1)
    XCTAssertEqual(match.matcherIndex, 0)
    XCTAssertEqual(match.host.config.name, "second")
    XCTAssertEqual(match.route.config.name, "s1")
    XCTAssertEqual(match.matcher, RouteMatcher(path: .prefix("/y")))
    guard case .directResponse(let status, let body) = match.route.config.action else {
      return XCTFail("action")
    }
    XCTAssertEqual(status, 204)
    XCTAssertEqual(body, "s1")
  }

  func testNoRouteNamesTheHost() {
    let router = CompiledRouter(virtualHosts: [
      makeHost("first", domains: ["first.test"], routes: [makeRoute("f", path: .exact("/f"))]),
      makeHost("second", domains: ["second.test"], routes: [makeRoute("s", path: .exact("/s"))]),
      makeHost("empty", domains: ["empty.test"], routes: []),
    ])
    XCTAssertEqual(router.checkedRoute(request("/f", host: "second.test")), .noRoute(host: 1))
    XCTAssertEqual(router.checkedRoute(request("/s", host: "first.test")), .noRoute(host: 0))
    XCTAssertEqual(router.checkedRoute(request("/", host: "empty.test")), .noRoute(host: 2))
    XCTAssertEqual(
      router.checkedRoute(request("/s", host: "second.test")), .match(route: 0, matcher: 0, host: 1))
    XCTAssertEqual(router.checkedRoute(request("/s", host: "third.test")), .noHost)
  }

  func testRouterFromAServerNameChain() {
    let chain = ServerNameChain(
      serverNames: [], sslConfig: nil, httpsRedirect: false, routeOptions: nil,
      virtualHosts: [makeHost("h", domains: ["*"], routes: [makeRoute("r", path: .prefix("/"))])])
    let router = CompiledRouter(chain)
    XCTAssertEqual(router.virtualHosts.count, 1)
    XCTAssertEqual(router.checkedRoute(request("/any")), .match(0))
  }

  // MARK: Paths compared byte for byte

  /// `String` equality is Unicode canonical equivalence: U+037E (Greek question mark) equals `;`, and
  /// U+212A (Kelvin sign) equals `K`. A route for one path must not answer the other, whichever table holds
  /// it: the index finds exact paths by their bytes, as the matchers compare them.
  func testCanonicallyEquivalentPathsAreDifferentPaths() {
    let router = makeRouter([
      makeRoute("exact", path: .exact("/a;b")),
      makeRoute("folded", path: .exact("/k", ignoresCase: true)),
      makeRoute("prefix", path: .prefix("/p;")),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a;b")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/a\u{37E}b")), .noRoute(host: 0))
    XCTAssertEqual(router.checkedRoute(request("/K")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/\u{212A}")), .noRoute(host: 0))
    XCTAssertEqual(router.checkedRoute(request("/p;x")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/p\u{37E}x")), .noRoute(host: 0))
  }

  /// A matcher whose table alone decides the path still has its other conditions checked.
  func testConditionsBesideADecidedPathAreChecked() {
    let router = makeRouter([
      makeRoute("post", matcher(.exact("/a"), methods: ["POST"])),
      makeRoute("get", matcher(.exact("/a"))),
      makeRoute("prefix-post", matcher(.prefix("/b/", ignoresCase: true), methods: ["POST"])),
      makeRoute("prefix", matcher(.prefix("/b/", ignoresCase: true))),
    ])
    XCTAssertEqual(router.checkedRoute(request("/a", method: "POST")), .match(0))
    XCTAssertEqual(router.checkedRoute(request("/a")), .match(1))
    XCTAssertEqual(router.checkedRoute(request("/B/x", method: "POST")), .match(2))
    XCTAssertEqual(router.checkedRoute(request("/B/x")), .match(3))
  }
}
