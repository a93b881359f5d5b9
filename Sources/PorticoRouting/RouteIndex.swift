/// One host's routes, indexed so that a lookup costs about the path's length rather than the number of
/// routes, while still answering exactly what a first-match-wins scan in listed order would.
///
/// Each matcher is filed under its literal opening: fully literal exact paths in hash tables, everything
/// else in prefix tries under its first literal piece; matchers without one are always candidates. A
/// lookup visits only the candidates filed under the path and keeps the earliest that fully matches.
///
/// A class so that the per-request lookup borrows it instead of copying its tables; it is filled in `init`
/// and never changed afterwards, which is what makes sharing it across event loops safe.
final class RouteIndex: @unchecked Sendable {
  struct Entry: Sendable {
    let route: Int32
    let matcher: Int32
    /// Position in `matchers`.
    let slot: Int32

    func precedes(_ other: Entry) -> Bool { (route, matcher) < (other.route, other.matcher) }
  }

  // Constants, so that a lookup reads them in place; variables of a class would be copied out (their
  // tables retained and released) on every access.
  /// Every matcher of every route, in order; entries point into it.
  private let matchers: [RouteMatcher]
  private let exact: [Substring: [Entry]]
  private let foldedExact: [Substring: [Entry]]
  private let prefixes: PrefixTrie<Entry>
  private let foldedPrefixes: PrefixTrie<Entry>
  private let always: [Entry]

  init(_ routes: [RouteConfig]) {
    var matchers: [RouteMatcher] = []
    var exact: [Substring: [Entry]] = [:]
    var foldedExact: [Substring: [Entry]] = [:]
    var prefixes = PrefixTrie<Entry>()
    var foldedPrefixes = PrefixTrie<Entry>()
    var always: [Entry] = []
    for (routeIndex, route) in routes.enumerated() {
      for (matcherIndex, matcher) in route.matchers.enumerated() {
        let entry = Entry(route: Int32(routeIndex), matcher: Int32(matcherIndex), slot: Int32(matchers.count))
        matchers.append(matcher)
        let path = matcher.path
        guard let first = path.pieces.first else {
          always.append(entry)
          continue
        }
        if path.kind == .exact, path.pieces.count == 1 {
          if first.ignoresCase {
            foldedExact[Substring(first.text.asciiLowercased), default: []].append(entry)
          } else {
            exact[Substring(first.text), default: []].append(entry)
          }
        } else if first.ignoresCase {
          foldedPrefixes.insert(first.text.asciiLowercased, entry)
        } else {
          prefixes.insert(first.text, entry)
        }
      }
    }
    self.matchers = matchers
    self.exact = exact
    self.foldedExact = foldedExact
    self.prefixes = prefixes
    self.foldedPrefixes = foldedPrefixes
    self.always = always
  }

  /// The first route, in listed order, with a matcher that matches `request`.
  func firstMatch<Request: RequestView>(_ request: Request) -> Entry? {
    // The candidates are visited through closures written in place (not a local function passed as a
    // value), so that `best` stays on the stack: routing allocates nothing.
    var best: Entry?
    let path = request.path
    if let entries = exact[path] {
      for entry in entries { consider(entry, for: request, best: &best) }
    }
    if !foldedExact.isEmpty, let entries = foldedExact[Substring(path.asciiLowercased)] {
      for entry in entries { consider(entry, for: request, best: &best) }
    }
    prefixes.forEachPrefix(of: path) { consider($0, for: request, best: &best) }
    if !foldedPrefixes.isEmpty {
      foldedPrefixes.forEachPrefix(of: path, folding: { $0.asciiLowercased }) {
        consider($0, for: request, best: &best)
      }
    }
    for entry in always { consider(entry, for: request, best: &best) }
    return best
  }

  private func consider<Request: RequestView>(_ entry: Entry, for request: Request, best: inout Entry?) {
    if let current = best, current.precedes(entry) { return }
    if matchers[Int(entry.slot)].firstMismatch(request) == nil { best = entry }
  }
}
