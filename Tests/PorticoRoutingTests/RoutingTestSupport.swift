import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

// Shared builders for the routing tests: configuration values are made directly, without the translator.

let testHostResource = ResourceID(.virtualHost, namespace: "apps", name: "test")

/// A route with `matchers` that answers directly; everything else empty.
func makeRoute(_ name: String, _ matchers: [RouteMatcher], status: Int = 200) -> RouteConfig {
  RouteConfig(
    name: name, matchers: matchers, action: .directResponse(status: status, body: name),
    options: EffectiveOptions(), labels: [:], chain: [], replacement: nil)
}

/// A route with one matcher.
func makeRoute(_ name: String, _ matcher: RouteMatcher, status: Int = 200) -> RouteConfig {
  makeRoute(name, [matcher], status: status)
}

/// A route with one path-only matcher.
func makeRoute(_ name: String = "route", path: PathMatcher) -> RouteConfig {
  makeRoute(name, [RouteMatcher(path: path)])
}

func makeHost(_ name: String = "host", domains: [String] = ["*"], routes: [RouteConfig]) -> VirtualHostConfig
{
  VirtualHostConfig(name: name, resource: testHostResource, domains: domains, routes: routes)
}

/// A router with one `*` host serving `routes`.
func makeRouter(_ routes: [RouteConfig]) -> CompiledRouter {
  CompiledRouter(virtualHosts: [makeHost(routes: routes)])
}

/// A compiled RE2 regex; the patterns in these tests are valid.
func re(_ pattern: String, ignoringCase: Bool = false) -> CompiledRegex {
  CompiledRegex(try! RE2Regex(pattern, ignoringCase: ignoringCase))
}

func piece(_ text: String, ignoresCase: Bool = false) -> PathMatcher.Piece {
  PathMatcher.Piece(text, ignoresCase: ignoresCase)
}

/// A request to `host` for `pathAndQuery` (the query is split off at the first `?`).
func request(
  _ pathAndQuery: String, host: String = "example.com", method: String = "GET",
  headers: [(String, String)] = []
) -> PlainRequest {
  PlainRequest(method: method, authority: host, pathAndQuery: pathAndQuery, headers: headers)
}

/// A routing outcome reduced to indexes, so it can be compared.
enum Routed: Equatable, CustomStringConvertible {
  case match(route: Int, matcher: Int, host: Int)
  case noRoute(host: Int)
  case noHost

  /// A match in host 0.
  static func match(_ route: Int, _ matcher: Int = 0) -> Routed {
    .match(route: route, matcher: matcher, host: 0)
  }

  var description: String {
    switch self {
    case .match(let route, let matcher, let host):
      "match(route: \(route), matcher: \(matcher), host: \(host))"
    case .noRoute(let host): "noRoute(host: \(host))"
    case .noHost: "noHost"
    }
  }
}

// The router's result types are reduced here, in one place, to positions: the host's position in
// `CompiledRouter.hosts`, the route's in the host's list, the matcher's in the route.

extension CompiledRouter {
  /// The position of `host` among this router's hosts (by identity), or -1.
  func position(of host: CompiledHost) -> Int { hosts.firstIndex { $0 === host } ?? -1 }

  /// The position of the host serving `authority`, or nil.
  func hostPosition(for authority: String) -> Int? { host(for: Substring(authority)).map(position(of:)) }

  func reduce(_ outcome: Outcome) -> Routed {
    switch outcome {
    case .matched(let match): reduce(match)
    case .noRoute(let host): .noRoute(host: position(of: host))
    case .noHost: .noHost
    }
  }

  func reduce(_ match: Match) -> Routed {
    .match(route: match.route.position, matcher: match.matcherIndex, host: position(of: match.host))
  }

  /// What a plain linear scan decided, in the same reduced form.
  func reduce(_ explanation: RouteExplanation) -> Routed {
    guard let host = explanation.host else { return .noHost }
    guard let match = explanation.match else { return .noRoute(host: position(of: host)) }
    return reduce(match)
  }

  /// The indexed lookup alone.
  func lookup(_ request: PlainRequest) -> Routed { reduce(route(request)) }

  /// The linear scan (`explain`) alone.
  func scan(_ request: PlainRequest) -> Routed { reduce(explain(request)) }

  /// Routes `request` with the index and with the linear scan; fails when they disagree.
  func checkedRoute(_ request: PlainRequest, file: StaticString = #filePath, line: UInt = #line) -> Routed {
    let indexed = lookup(request)
    let scanned = scan(request)
    XCTAssertEqual(
      indexed, scanned,
      "index and linear scan disagree for \(request.method) \(request.authority) \(request.path)",
      file: file, line: line)
    return indexed
  }
}

extension CompiledRouter.Outcome {
  var match: CompiledRouter.Match? {
    if case .matched(let match) = self { return match }
    return nil
  }
}

extension CompiledRouter.Match {
  var routeName: String { route.config.name }
  var hostName: String { host.config.name }
}

/// Checks `matcher` against `request` directly, and through a router whose only route holds it (so the
/// route index files it correctly too).
func assertMatches(
  _ matcher: RouteMatcher, _ request: PlainRequest, file: StaticString = #filePath, line: UInt = #line
) {
  let mismatch = matcher.firstMismatch(request)
  XCTAssertNil(
    mismatch, "\(matcher.summary) should match \(request.method) \(request.path)?\(request.query)",
    file: file,
    line: line)
  let router = makeRouter([makeRoute("only", matcher)])
  XCTAssertEqual(
    router.checkedRoute(request, file: file, line: line), .match(0),
    "routed: \(matcher.summary) \(request.path)",
    file: file, line: line)
}

/// Checks that `matcher` rejects `request` for `reason`, directly and through a router.
func assertMismatch(
  _ matcher: RouteMatcher, _ request: PlainRequest, _ reason: Mismatch, file: StaticString = #filePath,
  line: UInt = #line
) {
  XCTAssertEqual(
    matcher.firstMismatch(request), reason,
    "\(matcher.summary) against \(request.method) \(request.path)?\(request.query)", file: file, line: line)
  let router = makeRouter([makeRoute("only", matcher)])
  XCTAssertEqual(
    router.checkedRoute(request, file: file, line: line), .noRoute(host: 0),
    "routed: \(matcher.summary) \(request.path)", file: file, line: line)
}

/// Checks a path matcher against paths that must match and paths that must not.
func assertPath(
  _ path: PathMatcher, matches: [String], rejects: [String], file: StaticString = #filePath,
  line: UInt = #line
) {
  let matcher = RouteMatcher(path: path)
  for text in matches {
    XCTAssertTrue(
      path.matches(Substring(text)), "\(path.summary) should match \(text)", file: file, line: line)
    assertMatches(matcher, request(text), file: file, line: line)
  }
  for text in rejects {
    XCTAssertFalse(
      path.matches(Substring(text)), "\(path.summary) should not match \(text)", file: file, line: line)
    assertMismatch(matcher, request(text), .path, file: file, line: line)
  }
}
