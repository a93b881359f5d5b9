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
    /// Being filed where the lookup found it proves the match: a path-only matcher of one literal, exact
    /// or prefix. Its conditions need no second look.
    let isDecided: Bool

    func precedes(_ other: Entry) -> Bool { (route, matcher) < (other.route, other.matcher) }
  }

  // Constants, so that a lookup reads them in place; variables of a class would be copied out (their
  // tables retained and released) on every access.
  /// Every matcher of every route, in order; entries point into it.
  private let matchers: [RouteMatcher]
  private let exact: [PathBytes: [Entry]]
  private let foldedExact: [PathBytes: [Entry]]
  private let prefixes: PrefixTrie<Entry>
  private let foldedPrefixes: PrefixTrie<Entry>
  private let always: [Entry]

  init(_ routes: [RouteConfig]) {
    var matchers: [RouteMatcher] = []
    var exact: [PathBytes: [Entry]] = [:]
    var foldedExact: [PathBytes: [Entry]] = [:]
    var prefixes = PrefixTrie<Entry>()
    var foldedPrefixes = PrefixTrie<Entry>()
    var always: [Entry] = []
    for (routeIndex, route) in routes.enumerated() {
      for (matcherIndex, matcher) in route.matchers.enumerated() {
        let path = matcher.path
        let isOneLiteral = path.pieces.count == 1
        let entry = Entry(
          route: Int32(routeIndex), matcher: Int32(matcherIndex), slot: Int32(matchers.count),
          isDecided: isOneLiteral && matcher.isPathOnly && (path.kind == .exact || path.kind == .prefix))
        matchers.append(matcher)
        guard let first = path.pieces.first else {
          always.append(entry)
          continue
        }
        if path.kind == .exact, isOneLiteral {
          if first.ignoresCase {
            foldedExact[PathBytes(first.text.asciiLowercased), default: []].append(entry)
          } else {
            exact[PathBytes(first.text), default: []].append(entry)
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
    if let entries = exact[PathBytes(path)] {
      for entry in entries { consider(entry, for: request, best: &best) }
    }
    if !foldedExact.isEmpty, let entries = foldedExact[PathBytes(path.asciiLowercased)] {
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
    // A decided entry's matcher is not even read: at thousands of routes, every object a lookup touches is
    // likely a cache miss.
    if entry.isDecided || matchers[Int(entry.slot)].firstMismatch(request) == nil { best = entry }
  }
}

/// A path compared and hashed byte for byte, as matchers compare paths. (`String` equality is Unicode
/// canonical equivalence, under which two different paths can be equal.)
struct PathBytes: Hashable, Sendable {
  let text: Substring

  init(_ text: Substring) { self.text = text }
  init(_ text: String) { self.text = Substring(text) }

  static func == (lhs: PathBytes, rhs: PathBytes) -> Bool {
    lhs.text.utf8.count == rhs.text.utf8.count && lhs.text.utf8.elementsEqual(rhs.text.utf8)
  }

  func hash(into hasher: inout Hasher) {
    // Native strings are contiguous; the fallback feeds the same bytes one at a time, which hashes the same.
    let hashed: Void? = text.utf8.withContiguousStorageIfAvailable {
      hasher.combine(bytes: UnsafeRawBufferPointer($0))
    }
    if hashed == nil {
      for byte in text.utf8 { hasher.combine(byte) }
    }
  }
}
