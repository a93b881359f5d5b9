/// Finds routes that can never match because an earlier route of the same host takes all their requests,
/// and paths that two route tables both claim (spec §11.4). Earlier path-only prefix and exact routes are
/// indexed, so each route is checked in time proportional to its path, not to the number of routes.
struct OverlapDetector {
  private var prefixes = PrefixTrie<Int>()
  private var foldedPrefixes = PrefixTrie<Int>()
  private var exacts: [String: Int] = [:]
  private var foldedExacts: [String: Int] = [:]
  private var claims: [RouteMatcher: Int] = [:]

  struct Finding {
    let route: Int
    let earlier: Int
    let isOverlap: Bool
  }

  /// Findings for `routes`, in order.
  static func findings(in routes: [BuiltRoute]) -> [Finding] {
    var detector = OverlapDetector()
    detector.claims.reserveCapacity(routes.count)
    var findings: [Finding] = []
    for (position, route) in routes.enumerated() {
      if route.config.replacement == nil {
        if let earlier = detector.claimingRoute(for: route.config.matchers),
          routes[earlier].owner != route.owner
        {
          findings.append(Finding(route: position, earlier: earlier, isOverlap: true))
        } else if let earlier = detector.shadowingRoute(for: route.config.matchers) {
          findings.append(Finding(route: position, earlier: earlier, isOverlap: false))
        }
      }
      detector.insert(route.config.matchers, route: position)
    }
    return findings
  }

  /// An earlier route that takes every request any of `matchers` would.
  private func shadowingRoute(for matchers: [RouteMatcher]) -> Int? {
    var shadowers: [Int] = []
    for matcher in matchers {
      guard let earlier = shadowingRoute(for: matcher) else { return nil }
      shadowers.append(earlier)
    }
    return shadowers.max()
  }

  private func shadowingRoute(for matcher: RouteMatcher) -> Int? {
    // The literal every path of this matcher starts with, up to its first case-insensitive piece.
    let sensitive = matcher.path.pieces.prefix { !$0.ignoresCase }.map(\.text).joined()
    let whole = matcher.path.literal
    var found: Int?
    if matcher.path.isCaseSensitive, matcher.path.kind == .exact, let exact = exacts[whole] { found = exact }
    prefixes.forEachPrefix(of: sensitive) { found = min(found ?? $0, $0) }
    let folded = whole.asciiLowercased
    if matcher.path.kind == .exact, let exact = foldedExacts[folded] { found = min(found ?? exact, exact) }
    foldedPrefixes.forEachPrefix(of: folded) { found = min(found ?? $0, $0) }
    return found
  }

  private func claimingRoute(for matchers: [RouteMatcher]) -> Int? {
    matchers.lazy.compactMap { claims[Self.claimKey($0)] }.first
  }

  /// Claims compare paths and conditions, not matcher names.
  private static func claimKey(_ matcher: RouteMatcher) -> RouteMatcher {
    var key = matcher
    key.name = nil
    return key
  }

  private mutating func insert(_ matchers: [RouteMatcher], route: Int) {
    for matcher in matchers {
      let key = Self.claimKey(matcher)
      if claims[key] == nil { claims[key] = route }
      // Only a matcher that checks nothing but its path can shadow; its pieces must agree on case.
      guard matcher.isPathOnly else { continue }
      let literal = matcher.path.literal
      let allFolded = matcher.path.pieces.allSatisfy(\.ignoresCase)
      switch matcher.path.kind {
      case .prefix where matcher.path.isCaseSensitive:
        prefixes.insert(literal, route)
      case .prefix where allFolded:
        foldedPrefixes.insert(literal.asciiLowercased, route)
      case .exact where matcher.path.isCaseSensitive:
        if exacts[literal] == nil { exacts[literal] = route }
      case .exact where allFolded:
        if foldedExacts[literal.asciiLowercased] == nil { foldedExacts[literal.asciiLowercased] = route }
      default:
        break
      }
    }
  }
}
