import PorticoAPI
import PorticoRouting

/// A route's `csrf`, ready to check (Envoy's CSRF filter): a state-changing request (POST, PUT, PATCH,
/// DELETE) whose `Origin` (or, without one, `Referer`) names another host than the request's, and none of
/// `additionalOrigins`, is refused with 403. In shadow mode it is only counted. Requests that say no
/// origin at all pass.
struct CSRFRuntime: Sendable {
  let enforces: Bool
  let shadows: Bool
  /// The share of requests checked.
  let share: RequestShare
  private let additionalOrigins: [StringMatcher]

  init?(_ policy: CsrfPolicy?) {
    guard let policy, policy.filterEnabled == true || policy.shadowEnabled == true else { return nil }
    enforces = policy.filterEnabled == true
    shadows = policy.shadowEnabled == true
    share = RequestShare(percentage: policy.percentage)
    additionalOrigins = (policy.additionalOrigins ?? []).map(StringMatcher.init)
  }

  /// Whether a request from `origin` (an Origin or Referer value) to `authority` is from another site.
  func isForeign(origin: Substring, authority: Substring) -> Bool {
    guard let originHost = Self.host(ofOrigin: origin) else { return true }
    if originHost.equalsIgnoringASCIICase(Authority.host(of: authority)) { return false }
    // A Referer carries a path too: only its `scheme://host[:port]` is compared, so that a path
    // cannot make a foreign page look like an accepted origin.
    let site = Self.site(ofOrigin: origin)
    return !additionalOrigins.contains { $0.matches(site) || $0.matches(originHost) }
  }

  /// `scheme://host[:port]` of an Origin or Referer value.
  static func site(ofOrigin origin: Substring) -> Substring {
    guard let schemeEnd = origin.range(of: "://") else { return origin }
    let end =
      origin[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? origin.endIndex
    return origin[..<end]
  }

  /// The host of `scheme://host[:port][/...]`; nil when it is not of that form (`null`, say).
  static func host(ofOrigin origin: Substring) -> Substring? {
    guard let schemeEnd = origin.range(of: "://") else { return nil }
    let rest = origin[schemeEnd.upperBound...]
    let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    let host = Authority.host(of: authority)
    return host.isEmpty ? nil : host
  }
}
