/// Request conditions of a route. Within one matcher every present condition must hold; a route matches when
/// any of its matchers does.
public struct HTTPMatcher: Codable, Hashable, Sendable {
  /// Appended to the route name in access logs.
  public var name: String?
  public var uri: StringMatch?
  public var headers: [HeaderMatcher]?
  public var queryParameters: [QueryParameterMatcher]?
  public var method: String?

  public init(
    name: String? = nil, uri: StringMatch? = nil, headers: [HeaderMatcher]? = nil,
    queryParameters: [QueryParameterMatcher]? = nil, method: String? = nil
  ) {
    self.name = name
    self.uri = uri
    self.headers = headers
    self.queryParameters = queryParameters
    self.method = method
  }
}

/// One of `exact`, `prefix`, `regex` (RE2, whole-string) or `suffix`.
public struct StringMatch: Codable, Hashable, Sendable {
  public var exact: String?
  public var prefix: String?
  public var regex: String?
  public var suffix: String?
  /// Applies to exact, prefix and suffix; ignored for regex.
  public var ignoreCase: Bool?

  public init(
    exact: String? = nil, prefix: String? = nil, regex: String? = nil, suffix: String? = nil,
    ignoreCase: Bool? = nil
  ) {
    self.exact = exact
    self.prefix = prefix
    self.regex = regex
    self.suffix = suffix
    self.ignoreCase = ignoreCase
  }

  public static let kindNames = ["exact", "prefix", "regex", "suffix"]

  /// How many of the four kinds are given; valid only when exactly one is.
  public var kindCount: Int { [exact, prefix, regex, suffix].compactMap { $0 }.count }
}

public struct HeaderMatcher: Codable, Hashable, Sendable {
  public var name: String
  /// Absent: the header only has to be present.
  public var value: String?
  public var regex: Bool?
  public var invertMatch: Bool?

  public init(name: String, value: String? = nil, regex: Bool? = nil, invertMatch: Bool? = nil) {
    self.name = name
    self.value = value
    self.regex = regex
    self.invertMatch = invertMatch
  }
}

public struct QueryParameterMatcher: Codable, Hashable, Sendable {
  public var name: String
  public var value: String?
  public var regex: Bool?

  public init(name: String, value: String? = nil, regex: Bool? = nil) {
    self.name = name
    self.value = value
    self.regex = regex
  }
}
