@_exported import PorticoTranslate

/// What the router reads of a request. The data plane adapts its own header storage to this without
/// copying; `PlainRequest` is a plain implementation for tools and tests.
public protocol RequestView {
  /// Host or `:authority`, possibly with a port.
  var authority: Substring { get }
  var method: Substring { get }
  /// The path without the query string.
  var path: Substring { get }
  /// The query string without `?`; empty when there is none.
  var query: Substring { get }
  /// Calls `body` with each value of the header named `lowercasedName` until it returns true; returns
  /// whether it did.
  func containsHeader(_ lowercasedName: String, where body: (Substring) -> Bool) -> Bool
}

/// A request held as plain values (method, authority, path and query, headers): what `portico explain` and
/// tests route, where the data plane routes its parsed `RequestHead`s.
public struct PlainRequest: RequestView, Sendable {
  public var authority: Substring
  public var method: Substring
  public var path: Substring
  public var query: Substring
  /// Names lowercased.
  public var headers: [(name: String, value: String)]

  public init(method: String, authority: String, pathAndQuery: String, headers: [(String, String)] = []) {
    self.method = Substring(method)
    self.authority = Substring(authority)
    if let mark = pathAndQuery.firstIndex(of: "?") {
      path = pathAndQuery[..<mark]
      query = pathAndQuery[pathAndQuery.index(after: mark)...]
    } else {
      path = Substring(pathAndQuery)
      query = ""
    }
    self.headers = headers.map { ($0.0.asciiLowercased, $0.1) }
    if !self.headers.contains(where: { $0.name == "host" }) { self.headers.append(("host", authority)) }
  }

  /// Parses `http://host[:port]/path?query` (or `https://`).
  public init?(method: String, url: String, headers: [(String, String)] = []) {
    guard let schemeEnd = url.range(of: "://") else { return nil }
    let rest = url[schemeEnd.upperBound...]
    let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
    let authority = String(rest[..<pathStart])
    guard !authority.isEmpty else { return nil }
    var pathAndQuery = String(rest[pathStart...])
    if pathAndQuery.isEmpty || pathAndQuery.hasPrefix("?") { pathAndQuery = "/" + pathAndQuery }
    let explicitHost = headers.first { $0.0.asciiLowercased == "host" }?.1
    self.init(
      method: method, authority: explicitHost ?? authority, pathAndQuery: pathAndQuery, headers: headers)
  }

  public func containsHeader(_ lowercasedName: String, where body: (Substring) -> Bool) -> Bool {
    headers.contains { $0.name == lowercasedName && body(Substring($0.value)) }
  }
}
