/// The rules for `domains` and `serverNames`.
public enum DomainPattern {
  /// Why `domain` is not a valid virtual host domain, or nil. A `*` may stand alone, lead (`*.example.com`,
  /// `*-api.example.com`) or end (`api.*`); nowhere else.
  public static func problem(with domain: String) -> String? {
    if domain.isEmpty { return "domain must not be empty" }
    if domain.contains(where: { $0.isWhitespace || $0 == "/" }) { return "invalid domain '\(domain)'" }
    let stars = domain.filter { $0 == "*" }.count
    if domain == "*" || stars == 0 { return nil }
    if stars == 1, domain.hasPrefix("*") || domain.hasSuffix("*") { return nil }
    return "invalid wildcard in '\(domain)': a '*' may only stand alone, lead or end the domain"
  }

  /// Why `name` is not a valid SNI server name pattern, or nil: exact, or `*.` followed by a suffix.
  public static func problem(withServerName name: String) -> String? {
    if name.isEmpty { return "server name must not be empty" }
    guard name.contains("*") else { return nil }
    if name.hasPrefix("*."), !name.dropFirst().contains("*") { return nil }
    return "invalid server name '\(name)': only a leading '*.' wildcard is allowed"
  }
}
