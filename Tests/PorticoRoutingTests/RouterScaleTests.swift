import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

/// Correctness with many routes in one host (no timing assertions).
final class RouterScaleTests: XCTestCase {
  /// Routes every `(request, expected)` pair and fails once, listing the first few disagreements.
  private func assertRoutes(
    _ router: CompiledRouter, _ cases: [(PlainRequest, Routed)], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    var failures: [String] = []
    for (request, expected) in cases {
      let actual = router.lookup(request)
      if actual != expected {
        failures.append(
          "\(request.method) \(request.path)?\(request.query): got \(actual), expected \(expected)")
      }
    }
    XCTAssertTrue(
      failures.isEmpty,
      "\(failures.count) of \(cases.count) requests misrouted; first: \(failures.prefix(5))",
      file: file, line: line)
  }

  func testTenThousandPrefixAndExactRoutes() {
    var routes: [RouteConfig] = []
    for i in 0..<5000 {
      routes.append(makeRoute("svc\(i)", path: .prefix("/svc\(i)/")))
      routes.append(makeRoute("item\(i)", path: .exact("/item/\(i)")))
    }
    XCTAssertEqual(routes.count, 10_000)
    let router = makeRouter(routes)

    var cases: [(PlainRequest, Routed)] = []
    for i in 0..<5000 {
      // Hits.
      cases.append((request("/svc\(i)/"), .match(2 * i)))
      cases.append((request("/svc\(i)/deep/path?x=1"), .match(2 * i)))
      cases.append((request("/item/\(i)"), .match(2 * i + 1)))
      cases.append((request("/item/\(i)?q=1"), .match(2 * i + 1)))
      // Misses: no trailing slash, wrong case, extra characters.
      cases.append((request("/svc\(i)"), .noRoute(host: 0)))
      cases.append((request("/SVC\(i)/"), .noRoute(host: 0)))
      cases.append((request("/item/\(i)/"), .noRoute(host: 0)))
      cases.append((request("/item/\(i)x"), .noRoute(host: 0)))
      cases.append((request("/Item/\(i)"), .noRoute(host: 0)))
    }
    for path in [
      "/", "", "/svc", "/svc/", "/svc5000/", "/svc10000/a", "/item", "/item/", "/item/5000", "/item/-1", "/x",
    ] {
      cases.append((request(path), .noRoute(host: 0)))
    }
    assertRoutes(router, cases)

    // The linear scan agrees on a sample (it is too slow to run for every case).
    for i in stride(from: 0, to: 5000, by: 613) {
      XCTAssertEqual(router.checkedRoute(request("/svc\(i)/a")), .match(2 * i))
      XCTAssertEqual(router.checkedRoute(request("/item/\(i)")), .match(2 * i + 1))
      XCTAssertEqual(router.checkedRoute(request("/item/\(i)/")), .noRoute(host: 0))
    }
    XCTAssertEqual(router.route(request("/svc4321/x")).match?.routeName, "svc4321")
    XCTAssertEqual(router.route(request("/item/4321")).match?.routeName, "item4321")
  }

  func testTenThousandIgnoreCaseRoutesWithACatchAll() {
    var routes: [RouteConfig] = []
    for i in 0..<10_000 {
      if i.isMultiple(of: 2) {
        routes.append(makeRoute("case\(i)", path: .exact("/Case/\(i)", ignoresCase: true)))
      } else {
        routes.append(makeRoute("pre\(i)", path: .prefix("/Pre/\(i)/", ignoresCase: true)))
      }
    }
    routes.append(makeRoute("fallback", path: .prefix("/")))
    let router = makeRouter(routes)

    var cases: [(PlainRequest, Routed)] = []
    for i in 0..<10_000 {
      if i.isMultiple(of: 2) {
        cases.append((request("/case/\(i)"), .match(i)))
        cases.append((request("/CASE/\(i)"), .match(i)))
        cases.append((request("/case/\(i)/"), .match(10_000)))
      } else {
        cases.append((request("/pre/\(i)/x"), .match(i)))
        cases.append((request("/PRE/\(i)/"), .match(i)))
        cases.append((request("/pre/\(i)"), .match(10_000)))
      }
    }
    cases.append((request("/case/1"), .match(10_000)))
    cases.append((request("/pre/2/"), .match(10_000)))
    assertRoutes(router, cases)
    XCTAssertEqual(router.checkedRoute(request("/cAsE/9998")), .match(9998))
    XCTAssertEqual(router.checkedRoute(request("/pRe/9999/z")), .match(9999))
    XCTAssertEqual(router.checkedRoute(request("/nothing")), .match(10_000))
  }

  func testTenThousandRoutesSharingPathsAndSplitByHeader() {
    // Four routes per exact path; a header picks one.
    var routes: [RouteConfig] = []
    for i in 0..<10_000 {
      let matcher = RouteMatcher(
        path: .exact("/r/\(i % 2500)"),
        headers: [HeaderCondition(name: "x-shard", value: .exact("\(i / 2500)"))])
      routes.append(makeRoute("r\(i)", matcher))
    }
    let router = makeRouter(routes)
    var cases: [(PlainRequest, Routed)] = []
    for path in stride(from: 0, to: 2500, by: 7) {
      for shard in 0..<4 {
        cases.append((request("/r/\(path)", headers: [("x-shard", "\(shard)")]), .match(shard * 2500 + path)))
      }
      cases.append((request("/r/\(path)", headers: [("x-shard", "4")]), .noRoute(host: 0)))
      cases.append((request("/r/\(path)"), .noRoute(host: 0)))
    }
    assertRoutes(router, cases)
    XCTAssertEqual(router.checkedRoute(request("/r/2499", headers: [("X-Shard", "3")])), .match(9999))
  }

  func testAlwaysCandidateAfterTenThousandRoutes() {
    var routes: [RouteConfig] = []
    for i in 0..<9_999 {
      routes.append(makeRoute("e\(i)", path: .exact("/e/\(i)")))
    }
    routes.append(makeRoute("regex", path: PathMatcher(pieces: [], tail: .regex(re("/e/[0-9]+/x")))))
    let router = makeRouter(routes)
    var cases: [(PlainRequest, Routed)] = []
    for i in stride(from: 0, to: 9_999, by: 11) {
      cases.append((request("/e/\(i)"), .match(i)))
      cases.append((request("/e/\(i)/x"), .match(9_999)))
      cases.append((request("/e/\(i)/y"), .noRoute(host: 0)))
    }
    assertRoutes(router, cases)

    // The same regex listed first takes its requests from every later route.
    let regexFirst = makeRouter(
      [makeRoute("regex", path: PathMatcher(pieces: [], tail: .regex(re("/e/[0-9]*7"))))] + routes)
    XCTAssertEqual(regexFirst.lookup(request("/e/1237")), .match(0))
    XCTAssertEqual(regexFirst.lookup(request("/e/1238")), .match(1239))
  }

  func testHundredsOfNestedPrefixes() {
    // Route j has prefix "/d" repeated (depth - j) times: listed longest first.
    let depth = 500
    let longestFirst = makeRouter(
      (0..<depth).map { j in makeRoute("p\(j)", path: .prefix(String(repeating: "/d", count: depth - j))) })
    for m in [1, 2, 17, 250, 499, 500] {
      // The longest prefix of this path has m repetitions: route depth - m.
      XCTAssertEqual(
        longestFirst.lookup(request(String(repeating: "/d", count: m) + "/end")), .match(depth - m),
        "depth \(m)")
    }
    XCTAssertEqual(longestFirst.lookup(request(String(repeating: "/d", count: 700))), .match(0))
    XCTAssertEqual(longestFirst.lookup(request("/e")), .noRoute(host: 0))

    // Listed shortest first: the shortest always wins.
    let shortestFirst = makeRouter(
      (0..<depth).map { j in makeRoute("p\(j)", path: .prefix(String(repeating: "/d", count: j + 1))) })
    for m in [1, 2, 250, 500, 600] {
      XCTAssertEqual(shortestFirst.lookup(request(String(repeating: "/d", count: m))), .match(0))
    }
  }

  func testManyHosts() {
    var hosts: [VirtualHostConfig] = []
    for i in 0..<1000 {
      hosts.append(
        makeHost(
          "h\(i)", domains: ["svc\(i).example.com", "*.svc\(i).example.com"],
          routes: [makeRoute("r\(i)", path: .exact("/h\(i)"))]))
    }
    hosts.append(makeHost("wild", domains: ["*.example.com"], routes: [makeRoute("w", path: .prefix("/"))]))
    let router = CompiledRouter(virtualHosts: hosts)
    var failures: [String] = []
    for i in 0..<1000 {
      if router.lookup(request("/h\(i)", host: "svc\(i).example.com:8080"))
        != .match(route: 0, matcher: 0, host: i)
      {
        failures.append("svc\(i)")
      }
      if router.lookup(request("/h\(i)", host: "a.SVC\(i).example.com"))
        != .match(route: 0, matcher: 0, host: i)
      {
        failures.append("a.svc\(i)")
      }
      if router.lookup(request("/h\(i + 1)", host: "svc\(i).example.com")) != .noRoute(host: i) {
        failures.append("miss svc\(i)")
      }
    }
    XCTAssertTrue(failures.isEmpty, "misrouted: \(failures.prefix(5))")
    XCTAssertEqual(
      router.lookup(request("/x", host: "svc1000.example.com")),
      .match(route: 0, matcher: 0, host: 1000))
    XCTAssertEqual(router.lookup(request("/x", host: "example.com")), .noHost)
  }
}
