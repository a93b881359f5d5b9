/// Builds combined matchers: a route's own matcher, joined onto its delegating parent's (spec §3.2, §11.3).
struct MatcherJoiner {
  var regexes: RegexTable

  /// Why a child matcher cannot be joined under its parent with `passFullPath`.
  struct Problem: Error {
    let message: String
  }

  /// A matcher of a virtual host's own route. No matcher, or no `uri`, means prefix `/`.
  mutating func standalone(_ matcher: HTTPMatcher?) -> RouteMatcher {
    // Joining absolutely under an empty prefix leaves every kind of path as written.
    let root = RouteMatcher(path: PathMatcher(pieces: [], tail: .anything))
    return (try? join(matcher, under: root, passFullPath: true)) ?? root
  }

  /// `child` under `parent`: the parent's path with the child's relative path added, and every parent
  /// header, query and method condition kept.
  mutating func join(_ child: HTTPMatcher?, under parent: RouteMatcher, passFullPath: Bool) throws(Problem)
    -> RouteMatcher
  {
    var joined = parent
    guard let child else { return joined }
    joined.name = [parent.name, child.name].compactMap { $0 }.joined(separator: ".").nilIfEmpty
    if let uri = child.uri {
      joined.path = try joinPath(uri, under: parent.path, passFullPath: passFullPath)
    }
    for header in child.headers ?? [] { joined.headers.append(condition(header)) }
    for parameter in child.queryParameters ?? [] { joined.queryParameters.append(condition(parameter)) }
    if let method = child.method, !joined.methods.contains(method) { joined.methods.append(method) }
    return joined
  }

  private mutating func joinPath(_ uri: StringMatch, under parent: PathMatcher, passFullPath: Bool)
    throws(Problem) -> PathMatcher
  {
    let ignoresCase = uri.ignoreCase ?? false
    if let regex = uri.regex {
      return try joinRegex(regex, under: parent, passFullPath: passFullPath)
    }
    if let suffix = uri.suffix {
      return PathMatcher(pieces: parent.pieces, tail: .suffix(.init(suffix, ignoresCase: ignoresCase)))
    }
    let isExact = uri.exact != nil
    let text = uri.exact ?? uri.prefix ?? "/"
    let tail: PathMatcher.Tail = isExact ? .end : .anything
    if passFullPath {
      let rest = try remainder(of: text, after: parent)
      return PathMatcher(pieces: parent.pieces + [.init(String(rest), ignoresCase: ignoresCase)], tail: tail)
    }
    if text.isEmpty || text == "/" { return PathMatcher(pieces: parent.pieces, tail: tail) }
    let relative = text.hasPrefix("/") ? text : "/" + text
    return PathMatcher(
      pieces: Self.withoutTrailingSlash(parent.pieces) + [.init(relative, ignoresCase: ignoresCase)],
      tail: tail)
  }

  private mutating func joinRegex(_ pattern: String, under parent: PathMatcher, passFullPath: Bool)
    throws(Problem) -> PathMatcher
  {
    if passFullPath {
      // The child's regex is absolute; it must spell out the parent prefix so the rest can be matched alone.
      let literal = parent.literal
      guard parent.isCaseSensitive, pattern.hasPrefix(literal) else {
        throw Problem(
          message:
            "with passFullPath, regex '\(pattern)' must begin with the parent prefix '\(literal)' written literally"
        )
      }
      let rest = String(pattern.dropFirst(literal.count))
      return PathMatcher(pieces: parent.pieces, tail: .regex(compiled(rest)))
    }
    var pieces = Self.withoutTrailingSlash(parent.pieces)
    if !pattern.hasPrefix("/") { pieces.append(.init("/")) }
    return PathMatcher(pieces: pieces, tail: .regex(compiled(pattern)))
  }

  /// The part of an absolute child path after the parent's prefix.
  private func remainder(of text: String, after parent: PathMatcher) throws(Problem) -> Substring {
    var rest = Substring(text)
    for piece in parent.pieces {
      guard rest.hasPrefix(piece.text, ignoringASCIICase: piece.ignoresCase) else {
        throw Problem(
          message: "with passFullPath, '\(text)' must start with the parent prefix '\(parent.literal)'")
      }
      rest = rest.dropFirst(piece.text.count)
    }
    return rest
  }

  /// Drops one trailing `/` so that joining leaves exactly one slash at the seam.
  static func withoutTrailingSlash(_ pieces: [PathMatcher.Piece]) -> [PathMatcher.Piece] {
    guard var last = pieces.last, last.text.hasSuffix("/") else { return pieces }
    last.text.removeLast()
    return Array(pieces.dropLast()) + [last]
  }

  private mutating func compiled(_ pattern: String) -> CompiledRegex {
    // Load-time validation compiled every pattern written in a manifest; new ones (passFullPath) compile here.
    if let regex = regexes.lookup(pattern) { return CompiledRegex(regex) }
    if let regex = try? regexes.regex(pattern) { return CompiledRegex(regex) }
    // Unreachable for validated input; a pattern that matches nothing keeps the route closed.
    return CompiledRegex(try! RE2Regex("[^\\x00-\\x{10FFFF}]"))
  }

  private mutating func value(_ value: String?, isRegex: Bool) -> HeaderCondition.Value {
    guard let value, !value.isEmpty else { return .present }
    return isRegex ? .regex(compiled(value)) : .exact(value)
  }

  mutating func condition(_ header: HeaderMatcher) -> HeaderCondition {
    HeaderCondition(
      name: header.name, value: value(header.value, isRegex: header.regex ?? false),
      invert: header.invertMatch ?? false)
  }

  private mutating func condition(_ parameter: QueryParameterMatcher) -> QueryCondition {
    QueryCondition(name: parameter.name, value: value(parameter.value, isRegex: parameter.regex ?? false))
  }
}

extension String {
  var nilIfEmpty: String? { isEmpty ? nil : self }
}
