import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

final class MatcherTests: XCTestCase {
  // MARK: Exact

  func testExactPath() {
    assertPath(
      .exact("/api"), matches: ["/api"],
      rejects: ["/api/", "/ap", "/apis", "/API", "/Api", "/", "", "/x/api", "api"])
  }

  func testExactPathIgnoringCase() {
    assertPath(
      .exact("/Api/Users", ignoresCase: true),
      matches: ["/api/users", "/API/USERS", "/Api/Users", "/aPi/uSeRs"],
      rejects: ["/api/users/", "/api/user", "/api-users", "/api/usersx"])
  }

  func testExactPathIgnoresTheQuery() {
    let matcher = RouteMatcher(path: .exact("/api"))
    assertMatches(matcher, request("/api?x=1"))
    assertMatches(matcher, request("/api?"))
    assertMismatch(matcher, request("/api/?x=1"), .path)
  }

  func testExactRoot() {
    assertPath(.exact("/"), matches: ["/"], rejects: ["", "//", "/a"])
  }

  // MARK: Prefix

  func testPrefixIsAPlainStringPrefix() {
    assertPath(
      .prefix("/api"), matches: ["/api", "/api/", "/api/v1/users", "/apis", "/api-docs", "/api.json"],
      rejects: ["/ap", "/", "", "/API", "/Api/v1", "/x/api", "api"])
  }

  func testPrefixWithTrailingSlashIsNotSegmentAware() {
    assertPath(.prefix("/api/"), matches: ["/api/", "/api/x"], rejects: ["/api", "/apix"])
  }

  func testPrefixIgnoringCase() {
    assertPath(
      .prefix("/Api", ignoresCase: true), matches: ["/api", "/API/v1", "/aPi/X", "/apis"],
      rejects: ["/ap", "/xapi"])
  }

  func testRootPrefixMatchesEveryPath() {
    assertPath(.prefix("/"), matches: ["/", "/a", "/a/b/c", "//"], rejects: ["", "a"])
  }

  func testEmptyPrefixMatchesEverything() {
    // No literal pieces at all: an always-candidate in the index.
    assertPath(PathMatcher(pieces: [], tail: .anything), matches: ["/", "", "/anything", "x"], rejects: [])
  }

  func testPiecesAreConsumedInTurn() {
    let path = PathMatcher(pieces: [piece("/a"), piece(""), piece("/b")], tail: .end)
    assertPath(path, matches: ["/a/b"], rejects: ["/a", "/a/b/", "/b/a", "/a/B"])
  }

  // MARK: Mixed case sensitivity

  func testCaseSensitivePieceThenIgnoreCasePiece() {
    let prefix = PathMatcher(pieces: [piece("/api"), piece("/Users", ignoresCase: true)], tail: .anything)
    XCTAssertEqual(prefix.pieces.count, 2)
    assertPath(
      prefix, matches: ["/api/users", "/api/USERS", "/api/Users/42", "/api/uSeRsX"],
      rejects: ["/API/users", "/Api/Users", "/aPI/USERS/1", "/api/user", "/api"])

    let exact = PathMatcher(pieces: [piece("/api"), piece("/Users", ignoresCase: true)], tail: .end)
    assertPath(
      exact, matches: ["/api/users", "/api/USERS", "/api/uSeRs"],
      rejects: ["/API/users", "/api/users/", "/Api/USERS", "/api/usersx"])
  }

  func testIgnoreCasePieceThenCaseSensitivePiece() {
    let prefix = PathMatcher(pieces: [piece("/Api", ignoresCase: true), piece("/v1")], tail: .anything)
    assertPath(
      prefix, matches: ["/api/v1", "/API/v1/x", "/aPi/v1"],
      rejects: ["/api/V1", "/API/V1/x", "/api/v2", "/api"])

    let exact = PathMatcher(pieces: [piece("/Api", ignoresCase: true), piece("/v1")], tail: .end)
    assertPath(exact, matches: ["/api/v1", "/API/v1"], rejects: ["/api/V1", "/api/v1/"])
  }

  func testThreeAlternatingPieces() {
    let path = PathMatcher(
      pieces: [piece("/a"), piece("/B", ignoresCase: true), piece("/c")], tail: .end)
    assertPath(path, matches: ["/a/b/c", "/a/B/c"], rejects: ["/A/b/c", "/a/b/C", "/a/b/c/"])
  }

  // MARK: Suffix

  func testSuffixWithoutOpening() {
    let path = PathMatcher(pieces: [], tail: .suffix(piece(".json")))
    assertPath(
      path, matches: ["/a.json", "/x/y/z.json", ".json", "/.json"],
      rejects: ["/a.JSON", "/a.json/", "/a.jso", "/a", ""])
  }

  func testSuffixIgnoringCase() {
    let path = PathMatcher(pieces: [], tail: .suffix(piece(".JSON", ignoresCase: true)))
    assertPath(path, matches: ["/a.json", "/a.JSON", "/a.Json"], rejects: ["/a.jsonx", "/a.xml"])
  }

  func testSuffixAfterLiteralOpening() {
    let path = PathMatcher(pieces: [piece("/api/")], tail: .suffix(piece(".json")))
    XCTAssertEqual(path.kind, .suffix)
    assertPath(
      path, matches: ["/api/x.json", "/api/.json", "/api/a/b/c.json"],
      rejects: ["/other/x.json", "/api.json", "/API/x.json", "/api/x.xml", "/api/x.JSON", "/api/"])
  }

  func testSuffixMustFollowTheOpening() {
    // What follows the opening must end with the suffix; the opening itself does not count.
    let path = PathMatcher(pieces: [piece("/a.json")], tail: .suffix(piece(".json")))
    assertPath(path, matches: ["/a.json.json", "/a.json/b.json"], rejects: ["/a.json", "/a.json/"])
  }

  func testSuffixAfterIgnoreCaseOpening() {
    let path = PathMatcher(pieces: [piece("/Static", ignoresCase: true)], tail: .suffix(piece(".css")))
    assertPath(
      path, matches: ["/static/a.css", "/STATIC/b/c.css"], rejects: ["/static/a.CSS", "/public/a.css"])
  }

  // MARK: Regex

  func testRegexMustMatchTheWholePath() {
    let path = PathMatcher(pieces: [], tail: .regex(re("/users/[0-9]+")))
    XCTAssertEqual(path.kind, .regex)
    assertPath(
      path, matches: ["/users/1", "/users/42"],
      rejects: ["/users/", "/users/42/", "/users/42/x", "/x/users/42", "/users/4a", "/Users/42"])
  }

  func testRegexIsAnchoredAtBothEnds() {
    let path = PathMatcher(pieces: [], tail: .regex(re("[a-z]+")))
    assertPath(path, matches: ["abc"], rejects: ["/abc", "abc/", "/", ""])
  }

  func testRegexIgnoringCase() {
    let path = PathMatcher(pieces: [], tail: .regex(re("/users/[a-z]+", ignoringCase: true)))
    assertPath(path, matches: ["/users/bob", "/USERS/Bob"], rejects: ["/users/bob1"])
  }

  func testRegexAfterLiteralOpening() {
    // The regex matches the rest of the path after the opening, entirely.
    let path = PathMatcher(pieces: [piece("/api")], tail: .regex(re("/v[0-9]+")))
    assertPath(
      path, matches: ["/api/v1", "/api/v22"],
      rejects: ["/api/v1/", "/api/v1/users", "/API/v1", "/v1", "/api", "/apiv1", "/api/api/v1"])
  }

  func testRegexAfterIgnoreCaseOpening() {
    let path = PathMatcher(pieces: [piece("/Api", ignoresCase: true)], tail: .regex(re("/[a-z]+")))
    assertPath(path, matches: ["/api/x", "/API/abc"], rejects: ["/api/X", "/api/", "/api/x/y"])
  }

  func testRegexThatAcceptsTheEmptyRest() {
    let path = PathMatcher(pieces: [piece("/api")], tail: .regex(re("(/.*)?")))
    assertPath(path, matches: ["/api", "/api/", "/api/x"], rejects: ["/apix", "/ap"])
  }

  // MARK: Methods

  func testOneMethod() {
    let matcher = RouteMatcher(path: .prefix("/"), methods: ["GET"])
    XCTAssertTrue(matcher.canMatch)
    assertMatches(matcher, request("/a", method: "GET"))
    assertMismatch(matcher, request("/a", method: "POST"), .method(expected: "GET"))
    assertMismatch(matcher, request("/a", method: "get"), .method(expected: "GET"))
    assertMismatch(matcher, request("/a", method: "GETX"), .method(expected: "GET"))
  }

  func testTwoDifferentMethodsNeverMatch() {
    let matcher = RouteMatcher(path: .prefix("/"), methods: ["GET", "POST"])
    XCTAssertFalse(matcher.canMatch)
    for method in ["GET", "POST", "PUT", "DELETE", "HEAD", ""] {
      XCTAssertNotNil(matcher.firstMismatch(request("/", method: method)), method)
      XCTAssertEqual(
        makeRouter([makeRoute("only", matcher)]).checkedRoute(request("/", method: method)), .noRoute(host: 0)
      )
    }
    assertMismatch(matcher, request("/", method: "GET"), .method(expected: "POST"))
    assertMismatch(matcher, request("/", method: "POST"), .method(expected: "GET"))
    assertMismatch(matcher, request("/", method: "PUT"), .method(expected: "GET"))
  }

  func testTheSameMethodTwiceMatches() {
    let matcher = RouteMatcher(path: .prefix("/"), methods: ["PUT", "PUT"])
    XCTAssertTrue(matcher.canMatch)
    assertMatches(matcher, request("/", method: "PUT"))
    assertMismatch(matcher, request("/", method: "GET"), .method(expected: "PUT"))
  }

  func testNoMethodsMatchesAnyMethod() {
    let matcher = RouteMatcher(path: .prefix("/"))
    for method in ["GET", "POST", "BREW"] { assertMatches(matcher, request("/", method: method)) }
  }

  // MARK: Headers

  func testHeaderPresent() {
    let matcher = RouteMatcher(path: .prefix("/"), headers: [HeaderCondition(name: "x-env", value: .present)])
    assertMatches(matcher, request("/", headers: [("x-env", "prod")]))
    assertMatches(matcher, request("/", headers: [("x-env", "")]))
    assertMismatch(matcher, request("/"), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-envx", "prod"), ("x-en", "prod")]), .header(index: 0))
  }

  func testHeaderNamesAreCaseInsensitive() {
    let matcher = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "X-Env", value: .exact("prod"))])
    XCTAssertEqual(matcher.headers[0].name, "x-env")
    assertMatches(matcher, request("/", headers: [("x-env", "prod")]))
    assertMatches(matcher, request("/", headers: [("X-ENV", "prod")]))
    assertMatches(matcher, request("/", headers: [("x-Env", "prod")]))
  }

  func testHeaderExactIsCaseSensitive() {
    let matcher = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "x-env", value: .exact("prod"))])
    assertMatches(matcher, request("/", headers: [("x-env", "prod")]))
    assertMismatch(matcher, request("/", headers: [("x-env", "Prod")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-env", "prod ")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-env", "production")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-env", "")]), .header(index: 0))
    assertMismatch(matcher, request("/"), .header(index: 0))
  }

  func testHeaderRegexIsAFullMatch() {
    let matcher = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "x-version", value: .regex(re("v[0-9]+")))])
    assertMatches(matcher, request("/", headers: [("x-version", "v1")]))
    assertMatches(matcher, request("/", headers: [("x-version", "v123")]))
    assertMismatch(matcher, request("/", headers: [("x-version", "v1a")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-version", "av1")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-version", "V1")]), .header(index: 0))
    assertMismatch(matcher, request("/"), .header(index: 0))
  }

  func testHeaderHoldsWhenAnyValueSatisfiesIt() {
    let matcher = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "x-tag", value: .exact("b"))])
    assertMatches(matcher, request("/", headers: [("x-tag", "a"), ("x-tag", "b"), ("x-tag", "c")]))
    assertMatches(matcher, request("/", headers: [("X-Tag", "a"), ("x-other", "z"), ("x-TAG", "b")]))
    assertMismatch(matcher, request("/", headers: [("x-tag", "a"), ("x-tag", "c")]), .header(index: 0))

    let regex = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "x-tag", value: .regex(re("[0-9]+")))])
    assertMatches(regex, request("/", headers: [("x-tag", "a"), ("x-tag", "42")]))
    assertMismatch(regex, request("/", headers: [("x-tag", "a"), ("x-tag", "4 2")]), .header(index: 0))
  }

  func testInvertedPresentHeader() {
    let matcher = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "x-debug", value: .present, invert: true)])
    assertMatches(matcher, request("/"))
    assertMatches(matcher, request("/", headers: [("x-other", "1")]))
    assertMismatch(matcher, request("/", headers: [("x-debug", "1")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("X-Debug", "")]), .header(index: 0))
  }

  func testInvertedExactHeader() {
    let matcher = RouteMatcher(
      path: .prefix("/"), headers: [HeaderCondition(name: "x-env", value: .exact("prod"), invert: true)])
    assertMatches(matcher, request("/", headers: [("x-env", "dev")]))
    assertMatches(matcher, request("/", headers: [("x-env", "Prod")]))
    // An absent header satisfies an inverted condition.
    assertMatches(matcher, request("/"))
    assertMismatch(matcher, request("/", headers: [("x-env", "prod")]), .header(index: 0))
    // Inverted: no value may satisfy the condition.
    assertMismatch(matcher, request("/", headers: [("x-env", "dev"), ("x-env", "prod")]), .header(index: 0))
  }

  func testInvertedRegexHeader() {
    let matcher = RouteMatcher(
      path: .prefix("/"),
      headers: [HeaderCondition(name: "user-agent", value: .regex(re(".*bot.*")), invert: true)])
    assertMatches(matcher, request("/", headers: [("User-Agent", "Mozilla/5.0")]))
    assertMatches(matcher, request("/"))
    assertMismatch(matcher, request("/", headers: [("User-Agent", "googlebot/2.1")]), .header(index: 0))
  }

  func testHeaderConditionsAreAllRequired() {
    let matcher = RouteMatcher(
      path: .prefix("/"),
      headers: [
        HeaderCondition(name: "x-a", value: .present),
        HeaderCondition(name: "x-b", value: .exact("1")),
        HeaderCondition(name: "x-c", value: .present, invert: true),
      ])
    assertMatches(matcher, request("/", headers: [("x-a", ""), ("x-b", "1")]))
    assertMismatch(matcher, request("/", headers: [("x-b", "1")]), .header(index: 0))
    assertMismatch(matcher, request("/", headers: [("x-a", ""), ("x-b", "2")]), .header(index: 1))
    assertMismatch(
      matcher, request("/", headers: [("x-a", ""), ("x-b", "1"), ("x-c", "")]), .header(index: 2))
    // The first failing condition is the one reported.
    assertMismatch(matcher, request("/", headers: [("x-c", "")]), .header(index: 0))
  }

  // MARK: Query parameters

  private func queryMatcher(_ conditions: [QueryCondition]) -> RouteMatcher {
    RouteMatcher(path: .prefix("/"), queryParameters: conditions)
  }

  func testQueryPresent() {
    let matcher = queryMatcher([QueryCondition(name: "debug", value: .present)])
    for query in ["debug", "debug=", "debug=1", "a=1&debug", "a=1&debug=0&b=2", "&&debug&&"] {
      assertMatches(matcher, request("/x?" + query))
    }
    for query in ["", "debugx=1", "xdebug=1", "a=debug", "Debug=1", "de=bug"] {
      assertMismatch(matcher, request("/x?" + query), .queryParameter(index: 0))
    }
    assertMismatch(matcher, request("/x"), .queryParameter(index: 0))
  }

  func testQueryExact() {
    let matcher = queryMatcher([QueryCondition(name: "v", value: .exact("2"))])
    assertMatches(matcher, request("/?v=2"))
    assertMatches(matcher, request("/?a=1&v=2&b=3"))
    for query in ["v=20", "v=", "v", "v=02", "V=2", "vv=2", "a=v%3D2"] {
      assertMismatch(matcher, request("/?" + query), .queryParameter(index: 0))
    }
  }

  func testQueryExactIsCaseSensitive() {
    let matcher = queryMatcher([QueryCondition(name: "mode", value: .exact("Fast"))])
    assertMatches(matcher, request("/?mode=Fast"))
    assertMismatch(matcher, request("/?mode=fast"), .queryParameter(index: 0))
  }

  func testQueryEmptyValue() {
    let matcher = queryMatcher([QueryCondition(name: "flag", value: .exact(""))])
    assertMatches(matcher, request("/?flag"))
    assertMatches(matcher, request("/?flag="))
    assertMismatch(matcher, request("/?flag=1"), .queryParameter(index: 0))
  }

  func testQueryValueKeepsLaterEqualsSigns() {
    let matcher = queryMatcher([QueryCondition(name: "expr", value: .exact("a=b"))])
    assertMatches(matcher, request("/?expr=a=b"))
    assertMismatch(matcher, request("/?expr=a"), .queryParameter(index: 0))
  }

  func testQueryRegexIsAFullMatch() {
    let matcher = queryMatcher([QueryCondition(name: "id", value: .regex(re("[0-9]+")))])
    assertMatches(matcher, request("/?id=123"))
    assertMatches(matcher, request("/?x=a&id=7"))
    for query in ["id=12a", "id=a12", "id=", "id", "x=1"] {
      assertMismatch(matcher, request("/?" + query), .queryParameter(index: 0))
    }
  }

  func testQueryFirstOccurrenceWins() {
    let first = queryMatcher([QueryCondition(name: "v", value: .exact("1"))])
    let second = queryMatcher([QueryCondition(name: "v", value: .exact("2"))])
    assertMatches(first, request("/?v=1&v=2"))
    assertMismatch(second, request("/?v=1&v=2"), .queryParameter(index: 0))
    assertMatches(second, request("/?v=2&v=1"))

    let regex = queryMatcher([QueryCondition(name: "v", value: .regex(re("[a-z]+")))])
    assertMismatch(regex, request("/?v=1&v=abc"), .queryParameter(index: 0))
  }

  func testQueryFirstOccurrenceIsByDecodedName() {
    // `%76` is `v`: that parameter is the first `v`.
    let matcher = queryMatcher([QueryCondition(name: "v", value: .exact("2"))])
    assertMismatch(matcher, request("/?%76=1&v=2"), .queryParameter(index: 0))
    assertMatches(matcher, request("/?%76=2&v=1"))
  }

  func testQueryPercentEncodedNames() {
    let spaced = queryMatcher([QueryCondition(name: "a b", value: .exact("1"))])
    assertMatches(spaced, request("/?a%20b=1"))
    assertMismatch(spaced, request("/?a%2520b=1"), .queryParameter(index: 0))

    let ampersand = queryMatcher([QueryCondition(name: "a&b", value: .present)])
    assertMatches(ampersand, request("/?a%26b=1"))
    assertMismatch(ampersand, request("/?a&b=1"), .queryParameter(index: 0))

    let bracket = queryMatcher([QueryCondition(name: "filter[name]", value: .exact("x"))])
    assertMatches(bracket, request("/?filter%5Bname%5D=x"))
    assertMatches(bracket, request("/?filter%5bname%5d=x"))
    assertMatches(bracket, request("/?filter[name]=x"))
  }

  func testQueryPercentEncodedValues() {
    let slash = queryMatcher([QueryCondition(name: "path", value: .exact("a/b c"))])
    assertMatches(slash, request("/?path=a%2Fb%20c"))
    assertMatches(slash, request("/?path=a%2fb%20c"))
    assertMatches(slash, request("/?path=a/b%20c"))
    assertMismatch(slash, request("/?path=a%2Fb%20d"), .queryParameter(index: 0))
    assertMismatch(slash, request("/?path=a%252Fb%20c"), .queryParameter(index: 0))

    let ampersand = queryMatcher([QueryCondition(name: "q", value: .exact("x&y=z"))])
    assertMatches(ampersand, request("/?q=x%26y%3Dz"))
    assertMismatch(ampersand, request("/?q=x&y=z"), .queryParameter(index: 0))

    let utf8 = queryMatcher([QueryCondition(name: "city", value: .exact("Zürich"))])
    assertMatches(utf8, request("/?city=Z%C3%BCrich"))

    let regex = queryMatcher([QueryCondition(name: "email", value: .regex(re("[a-z]+@[a-z]+")))])
    assertMatches(regex, request("/?email=bob%40example"))
  }

  func testQueryMalformedEscapesAreKeptAsWritten() {
    let matcher = queryMatcher([QueryCondition(name: "p", value: .exact("100%"))])
    assertMatches(matcher, request("/?p=100%"))
    assertMatches(matcher, request("/?p=100%25"))
    let partial = queryMatcher([QueryCondition(name: "p", value: .exact("%zz%4"))])
    assertMatches(partial, request("/?p=%zz%4"))
    XCTAssertEqual(QueryText.decode("%zz%4"), "%zz%4")
    XCTAssertEqual(QueryText.decode("a%20b%2Fc%2f"), "a b/c/")
    XCTAssertEqual(QueryText.decode("plain"), "plain")
  }

  func testQueryConditionsAreAllRequired() {
    let matcher = queryMatcher([
      QueryCondition(name: "a", value: .present),
      QueryCondition(name: "b", value: .exact("2")),
    ])
    assertMatches(matcher, request("/?a&b=2"))
    assertMatches(matcher, request("/?b=2&a=9"))
    assertMismatch(matcher, request("/?b=2"), .queryParameter(index: 0))
    assertMismatch(matcher, request("/?a=1&b=3"), .queryParameter(index: 1))
    assertMismatch(matcher, request("/?a=1"), .queryParameter(index: 1))
  }

  // MARK: Combined conditions and mismatch reasons

  func testAllConditionsOfAMatcherMustHold() {
    let matcher = RouteMatcher(
      path: .prefix("/api"),
      headers: [HeaderCondition(name: "x-env", value: .exact("prod"))],
      queryParameters: [QueryCondition(name: "v", value: .exact("1"))],
      methods: ["POST"])
    let good = request("/api/x?v=1", method: "POST", headers: [("x-env", "prod")])
    assertMatches(matcher, good)
    assertMismatch(matcher, request("/web?v=1", method: "POST", headers: [("x-env", "prod")]), .path)
    assertMismatch(
      matcher, request("/api?v=1", method: "GET", headers: [("x-env", "prod")]), .method(expected: "POST"))
    assertMismatch(
      matcher, request("/api?v=1", method: "POST", headers: [("x-env", "dev")]), .header(index: 0))
    assertMismatch(
      matcher, request("/api?v=2", method: "POST", headers: [("x-env", "prod")]), .queryParameter(index: 0))
  }

  func testMismatchReportsTheFirstFailingConditionInOrder() {
    // Path, then methods, then headers, then query parameters.
    let matcher = RouteMatcher(
      path: .exact("/a"),
      headers: [HeaderCondition(name: "x-h", value: .present)],
      queryParameters: [QueryCondition(name: "q", value: .present)],
      methods: ["GET"])
    XCTAssertEqual(matcher.firstMismatch(request("/b", method: "POST")), .path)
    XCTAssertEqual(matcher.firstMismatch(request("/a", method: "POST")), .method(expected: "GET"))
    XCTAssertEqual(matcher.firstMismatch(request("/a", method: "GET")), .header(index: 0))
    XCTAssertEqual(
      matcher.firstMismatch(request("/a", method: "GET", headers: [("x-h", "")])), .queryParameter(index: 0))
    XCTAssertNil(matcher.firstMismatch(request("/a?q", method: "GET", headers: [("x-h", "")])))
  }

  func testExplainGivesOneReasonPerMatcherOfEachEarlierRoute() {
    let router = makeRouter([
      makeRoute(
        "r0", [RouteMatcher(path: .exact("/a")), RouteMatcher(path: .prefix("/b"), methods: ["POST"])]),
      makeRoute(
        "r1", RouteMatcher(path: .prefix("/"), headers: [HeaderCondition(name: "x-h", value: .present)])),
      makeRoute("r2", RouteMatcher(path: .prefix("/b"))),
      makeRoute("r3", RouteMatcher(path: .prefix("/"))),
    ])
    let explanation = router.explain(request("/b/c", method: "GET"))
    XCTAssertEqual(router.reduce(explanation), .match(2))
    XCTAssertEqual(explanation.match?.routeName, "r2")
    XCTAssertEqual(explanation.candidates.map(\.route.position), [0, 1])
    XCTAssertEqual(explanation.candidates.map(\.reasons.count), [2, 1])
    XCTAssertEqual(explanation.candidates.first?.reasons.last?.contains("POST"), true)
    XCTAssertEqual(explanation.candidates.last?.reasons.first?.contains("x-h"), true)

    let missRouter = makeRouter([makeRoute("r0", path: .exact("/a")), makeRoute("r1", path: .exact("/b"))])
    let miss = missRouter.explain(request("/c"))
    XCTAssertEqual(missRouter.reduce(miss), .noRoute(host: 0))
    XCTAssertEqual(miss.candidates.map(\.route.position), [0, 1])
    XCTAssertEqual(miss.candidates.map(\.route.config.name), ["r0", "r1"])
  }
}
