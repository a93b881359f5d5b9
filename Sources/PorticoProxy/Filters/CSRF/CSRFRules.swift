import PorticoAPI
import PorticoRouting

/// A route's `csrf`, ready to check (Envoy's CSRF filter): a state-changing request (POST, PUT, PATCH,
/// DELETE) whose `Origin` (or, without one, `Referer`) names another host than the request's, and none of
/// `additionalOrigins`, is refused with 403. In shadow mode it is only counted. Requests that say no
/// origin at all pass.
struct CSRFRules: Sendable {
  let enforces: Bool
  let shadows: Bool
  /// The share of requests checked.
  let share: RequestShare
  private let additionalOrigins: [StringMatcher]

  init(_ policy: CsrfPolicy) {
    enforces = policy.filterEnabled == true
    shadows = policy.shadowEnabled == true
    share = RequestShare(percentage: policy.percentage)
    additionalOrigins = (policy.additionalOrigins ?? []).map(StringMatcher.init)
  }

  /// Whether a request from `origin` (an Origin or Referer value) to `authority` is from another site.
  func isForeign(origin: Substring, authority: Substring) -> Bool {
    // A Referer carries a path too: only its `scheme://host[:port]` is compared, so that a path
    // cannot make a foreign page look like an accepted origin.
    guard let site = Self.site(ofOrigin: origin) else { return true }
    let host = Authority.host(of: site.authority)
    guard !host.isEmpty else { return true }
    if host.equalsIgnoringASCIICase(Authority.host(of: authority)) { return false }
    return !additionalOrigins.contains { $0.matches(site.origin) || $0.matches(host) }
  }

  /// `scheme://host[:port]` of an Origin or Referer value, and its `host[:port]`; nil when it is not of
  /// that form (`null`, say).
  static func site(ofOrigin value: Substring) -> (origin: Substring, authority: Substring)? {
    guard let schemeEnd = value.range(of: "://") else { return nil }
    let end =
      value[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? value.endIndex
    return (value[..<end], value[schemeEnd.upperBound..<end])
  }
}
