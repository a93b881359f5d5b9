/// A route's combined request conditions, after delegation joined every parent condition onto it.
public struct RouteMatcher: Sendable, Encodable, Hashable {
  public var name: String?
  public var path: PathMatcher
  public var headers: [HeaderCondition]
  public var queryParameters: [QueryCondition]
  /// Every listed method must equal the request's; two different ones can never match.
  public var methods: [String]

  public init(
    name: String? = nil, path: PathMatcher, headers: [HeaderCondition] = [],
    queryParameters: [QueryCondition] = [], methods: [String] = []
  ) {
    self.name = name
    self.path = path
    self.headers = headers
    self.queryParameters = queryParameters
    self.methods = methods
  }

  /// True when only the path is checked.
  public var isPathOnly: Bool { headers.isEmpty && queryParameters.isEmpty && methods.isEmpty }

  /// False when the conditions contradict each other (two different methods).
  public var canMatch: Bool { Set(methods).count <= 1 }
}

/// A path condition: literal pieces that must open the path, each with its own case sensitivity (a
/// case-sensitive parent prefix stays case-sensitive under an `ignoreCase` child), then a tail condition on
/// what follows them.
public struct PathMatcher: Sendable, Encodable, Hashable {
  public struct Piece: Sendable, Encodable, Hashable {
    public var text: String
    public var ignoresCase: Bool

    public init(_ text: String, ignoresCase: Bool = false) {
      self.text = text
      self.ignoresCase = ignoresCase
    }
  }

  public enum Tail: Sendable, Hashable {
    /// Anything may follow: a prefix match.
    case anything
    /// Nothing may follow: an exact match.
    case end
    /// What follows must end with this piece.
    case suffix(Piece)
    /// What follows must match this regex entirely.
    case regex(CompiledRegex)
  }

  public var pieces: [Piece]
  public var tail: Tail

  public init(pieces: [Piece], tail: Tail) {
    self.pieces = Self.merged(pieces)
    self.tail = tail
  }

  public static func prefix(_ text: String, ignoresCase: Bool = false) -> PathMatcher {
    PathMatcher(pieces: [Piece(text, ignoresCase: ignoresCase)], tail: .anything)
  }

  public static func exact(_ text: String, ignoresCase: Bool = false) -> PathMatcher {
    PathMatcher(pieces: [Piece(text, ignoresCase: ignoresCase)], tail: .end)
  }

  /// The literal opening, pieces joined.
  public var literal: String { pieces.map(\.text).joined() }

  /// The number of path bytes the literal pieces consume; a prefix rewrite replaces exactly these.
  public var literalLength: Int { pieces.reduce(0) { $0 + $1.text.utf8.count } }

  public var isCaseSensitive: Bool { !pieces.contains(where: \.ignoresCase) }

  public var kind: Kind {
    switch tail {
    case .anything: .prefix
    case .end: .exact
    case .suffix: .suffix
    case .regex: .regex
    }
  }

  public enum Kind: String, Sendable, Encodable {
    case exact, prefix, suffix, regex
  }

  /// Adjacent pieces with the same case sensitivity become one.
  static func merged(_ pieces: [Piece]) -> [Piece] {
    var result: [Piece] = []
    for piece in pieces where !piece.text.isEmpty {
      if let last = result.last, last.ignoresCase == piece.ignoresCase {
        result[result.count - 1].text += piece.text
      } else {
        result.append(piece)
      }
    }
    return result
  }

  /// A readable form: `prefix /api`, `exact /api/v1`, `prefix /api + suffix .json`, `prefix /api + regex /v[0-9]+`;
  /// `(i)` marks case-insensitive parts.
  public var summary: String {
    let opening = pieces.map { $0.ignoresCase ? "(i)\($0.text)" : $0.text }.joined()
    switch tail {
    case .anything: return "prefix \(opening.isEmpty ? "/" : opening)"
    case .end: return "exact \(opening)"
    case .suffix(let piece):
      let suffix = "suffix \(piece.ignoresCase ? "(i)" : "")\(piece.text)"
      return opening.isEmpty ? suffix : "prefix \(opening) + \(suffix)"
    case .regex(let regex):
      return opening.isEmpty ? "regex \(regex.pattern)" : "prefix \(opening) + regex \(regex.pattern)"
    }
  }

  private enum CodingKeys: String, CodingKey { case kind, pieces, suffix, regex, summary }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .kind)
    try container.encode(pieces, forKey: .pieces)
    if case .suffix(let piece) = tail { try container.encode(piece, forKey: .suffix) }
    if case .regex(let regex) = tail { try container.encode(regex.pattern, forKey: .regex) }
    try container.encode(summary, forKey: .summary)
  }
}

/// A regex compiled at load time, compared and encoded by its pattern.
public struct CompiledRegex: Sendable, Hashable {
  public let regex: RE2Regex

  public init(_ regex: RE2Regex) { self.regex = regex }

  public var pattern: String { regex.pattern }

  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.regex.pattern == rhs.regex.pattern && lhs.regex.ignoresCase == rhs.regex.ignoresCase
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(regex.pattern) }
}

public struct HeaderCondition: Sendable, Encodable, Hashable {
  public enum Value: Sendable, Hashable {
    /// The header only has to be present.
    case present
    case exact(String)
    case regex(CompiledRegex)
  }

  /// Lowercased.
  public var name: String
  public var value: Value
  public var invert: Bool

  public init(name: String, value: Value, invert: Bool = false) {
    self.name = name.asciiLowercased
    self.value = value
    self.invert = invert
  }

  public var summary: String {
    let condition: String
    switch value {
    case .present: condition = "\(name) present"
    case .exact(let text): condition = "\(name): \(text)"
    case .regex(let regex): condition = "\(name) ~ \(regex.pattern)"
    }
    return invert ? "not (\(condition))" : condition
  }

  private enum CodingKeys: String, CodingKey { case summary }
  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(summary, forKey: .summary)
  }
}

public struct QueryCondition: Sendable, Encodable, Hashable {
  public var name: String
  public var value: HeaderCondition.Value

  public init(name: String, value: HeaderCondition.Value) {
    self.name = name
    self.value = value
  }

  public var summary: String {
    switch value {
    case .present: "?\(name)"
    case .exact(let text): "?\(name)=\(text)"
    case .regex(let regex): "?\(name)~\(regex.pattern)"
    }
  }

  private enum CodingKeys: String, CodingKey { case summary }
  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(summary, forKey: .summary)
  }
}

extension RouteMatcher {
  /// One line: path, then methods, headers and query conditions.
  public var summary: String {
    var parts = [path.summary]
    if !methods.isEmpty { parts.append("method " + methods.joined(separator: "&")) }
    parts += headers.map { "header \($0.summary)" }
    parts += queryParameters.map { "query \($0.summary)" }
    return parts.joined(separator: ", ")
  }
}
