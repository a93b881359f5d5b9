import Foundation
import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

/// Random routes and requests: the indexed router must agree with the linear scan of `explain`, and both with
/// a small, independent model of the matching rules written here.
final class RouterPropertyTests: XCTestCase {
  func testIndexedRoutingAgreesWithLinearScan() {
    for seed: UInt64 in [1, 0x5EED, 0xC0FFEE] {
      check(seed: seed, mainRoutes: 300, wildcardRoutes: 120, requests: 1500)
    }
  }

  private func check(seed: UInt64, mainRoutes: Int, wildcardRoutes: Int, requests: Int) {
    var generator = RouteGenerator(seed: seed)
    let specs = [generator.routes(mainRoutes), generator.routes(wildcardRoutes)]
    let router = CompiledRouter(virtualHosts: [
      makeHost(
        "main", domains: ["example.com"], routes: specs[0].enumerated().map { $1.config(name: "main\($0)") }),
      makeHost(
        "wild", domains: ["*.test"], routes: specs[1].enumerated().map { $1.config(name: "wild\($0)") }),
    ])
    // Authorities with the host each must select.
    let authorities: [(String, Int?)] = [
      ("example.com", 0), ("EXAMPLE.com:80", 0), ("example.com:8080", 0), ("a.test", 1), ("B.Test:8080", 1),
      (".test", nil), ("other.org", nil), ("test", nil),
    ]

    var failures = 0
    var matched = 0
    var unmatched = 0
    var noHost = 0
    var laterMatchers = 0
    var matchedRoutes = Set<Int>()
    for number in 0..<requests {
      let (authority, host) = generator.pick(authorities)
      let spec = generator.request(authority: authority, routes: specs[host ?? 0])
      let head = spec.head
      let indexed = router.lookup(head)
      let scanned = router.scan(head)
      let modelled: Routed
      if let host {
        if let found = Model.firstMatch(specs[host], spec) {
          modelled = .match(route: found.route, matcher: found.matcher, host: host)
        } else {
          modelled = .noRoute(host: host)
        }
      } else {
        modelled = .noHost
      }
      if indexed != scanned || scanned != modelled {
        failures += 1
        XCTFail(
          "seed \(seed) request \(number) \(spec): index \(indexed), linear scan \(scanned), model \(modelled)"
        )
        if failures >= 10 { return }
      }
      switch scanned {
      case .match(let route, let matcher, let host):
        matched += 1
        if matcher > 0 { laterMatchers += 1 }
        if host == 0 { matchedRoutes.insert(route) }
      case .noRoute: unmatched += 1
      case .noHost: noHost += 1
      }
    }
    // The generator must exercise every outcome, or the agreement above says little.
    XCTAssertGreaterThan(matched, requests / 20, "seed \(seed)")
    XCTAssertGreaterThan(unmatched, 0, "seed \(seed)")
    XCTAssertGreaterThan(noHost, 0, "seed \(seed)")
    XCTAssertGreaterThan(laterMatchers, 0, "seed \(seed)")
    XCTAssertGreaterThan(matchedRoutes.count, 10, "seed \(seed)")
  }
}

// MARK: - Deterministic generator

/// A 64-bit linear congruential generator with an xorshift output step; deterministic for a seed.
struct LCG {
  private var state: UInt64

  init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }

  mutating func next() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    var value = state
    value ^= value >> 33
    value = value &* 0xFF51_AFD7_ED55_8CCD
    value ^= value >> 33
    return value
  }

  /// A number in `0..<bound`; `bound` > 0.
  mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

  /// True with the given chance in percent.
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

struct ConditionSpec: CustomStringConvertible {
  enum Value {
    case present
    case exact(String)
    case regex(CompiledRegex)
  }
  var name: String
  var value: Value
  var invert: Bool

  var description: String {
    let text =
      switch value {
      case .present: "\(name) present"
      case .exact(let expected): "\(name)=\(expected)"
      case .regex(let regex): "\(name)~\(regex.pattern)"
      }
    return invert ? "!(\(text))" : text
  }

  var headerValue: HeaderCondition.Value {
    switch value {
    case .present: .present
    case .exact(let expected): .exact(expected)
    case .regex(let regex): .regex(regex)
    }
  }
}

struct MatcherSpec {
  var pieces: [PathMatcher.Piece]
  var tail: PathMatcher.Tail
  var methods: [String]
  var headers: [ConditionSpec]
  var query: [ConditionSpec]

  var matcher: RouteMatcher {
    RouteMatcher(
      path: PathMatcher(pieces: pieces, tail: tail),
      headers: headers.map { HeaderCondition(name: $0.name, value: $0.headerValue, invert: $0.invert) },
      queryParameters: query.map { QueryCondition(name: $0.name, value: $0.headerValue) }, methods: methods)
  }
}

struct RouteSpec {
  var matchers: [MatcherSpec]

  func config(name: String) -> RouteConfig { makeRoute(name, matchers.map(\.matcher)) }
}

struct RequestSpec: CustomStringConvertible {
  var authority: String
  var method: String
  var path: String
  var query: String?
  var headers: [(String, String)]

  var head: PlainRequest {
    PlainRequest(
      method: method, authority: authority, pathAndQuery: path + (query.map { "?" + $0 } ?? ""),
      headers: headers)
  }

  var description: String {
    "\(method) \(authority) \(path)\(query.map { "?" + $0 } ?? "") \(headers.map { "\($0.0): \($0.1)" })"
  }
}

struct RouteGenerator {
  private var random: LCG

  init(seed: UInt64) { random = LCG(seed: seed) }

  private static let segments = [
    "a", "b", "api", "API", "Api", "v1", "V1", "users", "42", "x.json", "X.JSON", "",
  ]
  private static let suffixes = [".json", ".JSON", "/users", "42", "/", "1", "a", "api"]
  private static let pathRegexes = [
    "/[a-z]+", "/v[0-9]+(/.*)?", ".*\\.json", "/users/[0-9]+", "/?", "[^/]*", "/api/.*", "(/a)+",
    "/[A-Z]+/[0-9]+", "(/[a-z0-9]+)*", "/(api|API)/v1",
  ]
  private static let compiledPathRegexes = pathRegexes.map { re($0) }
  private static let foldedPathRegexes = pathRegexes.map { re($0, ignoringCase: true) }
  private static let valueRegexes = [re("p.*"), re("[a-z]+"), re("[0-9]+"), re("")]
  private static let methods = ["GET", "POST"]

  mutating func pick<T>(_ items: [T]) -> T { items[random.below(items.count)] }

  /// `/`-separated segments, sometimes with a trailing slash; `""` is possible but rare.
  mutating func path() -> String {
    var path = ""
    for _ in 0..<random.below(5) { path += "/" + pick(Self.segments) }
    if path.isEmpty || random.chance(15) { path += "/" }
    if random.chance(2) { path = "" }
    return path
  }

  /// `text` split into one or two pieces, each case-sensitive or not.
  private mutating func pieces(_ text: String) -> [PathMatcher.Piece] {
    guard !text.isEmpty else { return [] }
    let characters = Array(text)
    if characters.count >= 2, random.chance(40) {
      let cut = 1 + random.below(characters.count - 1)
      return [
        piece(String(characters[..<cut]), ignoresCase: random.chance(35)),
        piece(String(characters[cut...]), ignoresCase: random.chance(35)),
      ]
    }
    return [piece(text, ignoresCase: random.chance(35))]
  }

  /// A random path with at least one segment, or a leading part of it of at least four characters, so that
  /// prefix routes are not catch-alls.
  private mutating func opening() -> String {
    var characters = Array(path())
    while characters.count < 2 || characters == ["/", "/"] {
      characters = Array("/" + pick(Self.segments.filter { !$0.isEmpty }) + path())
    }
    if random.chance(50) { return String(characters) }
    let shortest = min(characters.count, 4)
    return String(characters[..<(shortest + random.below(characters.count - shortest + 1))])
  }

  private mutating func conditions(names: [String], values: [ConditionSpec.Value], invertible: Bool)
    -> [ConditionSpec]
  {
    let roll = random.below(100)
    let count = roll < 65 ? 0 : roll < 90 ? 1 : 2
    return (0..<count).map { _ in
      ConditionSpec(name: pick(names), value: pick(values), invert: invertible && random.chance(25))
    }
  }

  private mutating func matcher() -> MatcherSpec {
    let pieces: [PathMatcher.Piece]
    let tail: PathMatcher.Tail
    switch random.below(100) {
    case 0..<28:
      pieces = self.pieces(path())
      tail = .end
    case 28..<58:
      pieces = random.chance(3) ? [] : self.pieces(opening())
      tail = .anything
    case 58..<75:
      pieces = random.chance(50) ? [] : self.pieces(opening())
      tail = .suffix(piece(pick(Self.suffixes), ignoresCase: random.chance(35)))
    default:
      pieces = random.chance(50) ? [] : self.pieces(opening())
      let index = random.below(Self.pathRegexes.count)
      tail = .regex(random.chance(30) ? Self.foldedPathRegexes[index] : Self.compiledPathRegexes[index])
    }
    var methods: [String] = []
    let roll = random.below(100)
    if roll < 17 {
      methods = [pick(Self.methods)]
    } else if roll < 25 {
      methods = [pick(Self.methods), pick(Self.methods)]
    }
    var headers = conditions(
      names: ["x-env", "X-Canary"],
      values: [
        .present, .exact("prod"), .exact("Prod"), .regex(Self.valueRegexes[0]), .regex(Self.valueRegexes[1]),
      ],
      invertible: true)
    let query = conditions(
      names: ["v", "debug", "a b"],
      values: [
        .present, .exact("1"), .exact(""), .regex(Self.valueRegexes[2]), .regex(Self.valueRegexes[3]),
      ],
      invertible: false)
    // Without a literal opening, prefix, suffix and regex matchers take many paths; conditions keep them
    // from shadowing most later routes.
    var isExact = false
    if case .end = tail { isExact = true }
    if pieces.isEmpty, !isExact {
      if methods.isEmpty { methods = [pick(Self.methods)] }
      headers.append(ConditionSpec(name: "x-canary", value: .present, invert: false))
    }
    return MatcherSpec(pieces: pieces, tail: tail, methods: methods, headers: headers, query: query)
  }

  mutating func routes(_ count: Int) -> [RouteSpec] {
    (0..<count).map { _ in
      let roll = random.below(100)
      let matcherCount = roll < 70 ? 1 : roll < 90 ? 2 : 3
      return RouteSpec(matchers: (0..<matcherCount).map { _ in matcher() })
    }
  }

  private mutating func flipCase(_ text: String) -> String {
    switch random.below(10) {
    case 0: text.uppercased()
    case 1: text.lowercased()
    default: text
    }
  }

  /// A request path, often built to reach some route's matcher.
  private mutating func requestPath(routes: [RouteSpec]) -> String {
    guard !routes.isEmpty, random.chance(50) else { return path() }
    let target = pick(pick(routes).matchers)
    let literal = flipCase(target.pieces.map(\.text).joined())
    switch target.tail {
    case .end: return random.chance(80) ? literal : literal + path()
    case .anything: return literal + (random.chance(30) ? "" : path())
    case .suffix(let suffix): return literal + path() + flipCase(suffix.text)
    case .regex: return literal + (random.chance(20) ? "" : path())
    }
  }

  private mutating func queryString() -> String? {
    if random.chance(35) { return nil }
    let names = ["v", "debug", "a%20b", "%76", "a b", "x"]
    let values = ["1", "2", "x", "%31", "", "prod", "%70rod"]
    return (0..<random.below(4)).map { _ in
      let name = pick(names)
      return random.chance(85) ? "\(name)=\(pick(values))" : name
    }.joined(separator: "&")
  }

  mutating func request(authority: String, routes: [RouteSpec]) -> RequestSpec {
    var headers: [(String, String)] = []
    if random.chance(45) {
      headers.append((pick(["x-env", "X-ENV", "X-Env"]), pick(["prod", "Prod", "dev", ""])))
    }
    if random.chance(10) { headers.append(("x-env", pick(["prod", "dev"]))) }
    if random.chance(25) { headers.append((pick(["x-canary", "X-CANARY"]), pick(["1", ""]))) }
    if random.chance(10) { headers.append(("x-other", "prod")) }
    return RequestSpec(
      authority: authority, method: pick(["GET", "GET", "POST", "PUT"]), path: requestPath(routes: routes),
      query: queryString(), headers: headers)
  }
}

// MARK: - Independent model of the matching rules

/// The routing rules restated plainly over `String`s (the generator only produces ASCII), sharing no code with
/// the router's own evaluation except the RE2 engine itself.
enum Model {
  static func firstMatch(_ routes: [RouteSpec], _ request: RequestSpec) -> (route: Int, matcher: Int)? {
    for (routeIndex, route) in routes.enumerated() {
      for (matcherIndex, matcher) in route.matchers.enumerated() where matches(matcher, request) {
        return (routeIndex, matcherIndex)
      }
    }
    return nil
  }

  static func matches(_ matcher: MatcherSpec, _ request: RequestSpec) -> Bool {
    pathMatches(matcher, request.path)
      && matcher.methods.allSatisfy { $0 == request.method }
      && matcher.headers.allSatisfy { headerHolds($0, request.headers) }
      && matcher.query.allSatisfy { queryHolds($0, request.query ?? "") }
  }

  private static func same(_ lhs: String, _ rhs: String, ignoringCase: Bool) -> Bool {
    ignoringCase ? lhs.lowercased() == rhs.lowercased() : lhs == rhs
  }

  static func pathMatches(_ matcher: MatcherSpec, _ path: String) -> Bool {
    var rest = path
    for piece in matcher.pieces {
      guard rest.count >= piece.text.count else { return false }
      guard same(String(rest.prefix(piece.text.count)), piece.text, ignoringCase: piece.ignoresCase) else {
        return false
      }
      rest = String(rest.dropFirst(piece.text.count))
    }
    switch matcher.tail {
    case .anything: return true
    case .end: return rest.isEmpty
    case .suffix(let suffix):
      return rest.count >= suffix.text.count
        && same(String(rest.suffix(suffix.text.count)), suffix.text, ignoringCase: suffix.ignoresCase)
    case .regex(let regex): return regex.regex.matchesWhole(rest)
    }
  }

  private static func accepts(_ value: ConditionSpec.Value, _ text: String) -> Bool {
    switch value {
    case .present: true
    case .exact(let expected): text == expected
    case .regex(let regex): regex.regex.matchesWhole(text)
    }
  }

  static func headerHolds(_ condition: ConditionSpec, _ headers: [(String, String)]) -> Bool {
    let satisfied = headers.contains { name, value in
      name.lowercased() == condition.name.lowercased() && accepts(condition.value, value)
    }
    return satisfied != condition.invert
  }

  static func queryHolds(_ condition: ConditionSpec, _ query: String) -> Bool {
    for pair in query.components(separatedBy: "&") where !pair.isEmpty {
      let name: String
      let value: String
      if let equals = pair.firstIndex(of: "=") {
        name = String(pair[..<equals])
        value = String(pair[pair.index(after: equals)...])
      } else {
        name = pair
        value = ""
      }
      guard (name.removingPercentEncoding ?? name) == condition.name else { continue }
      return accepts(condition.value, value.removingPercentEncoding ?? value)
    }
    return false
  }
}
