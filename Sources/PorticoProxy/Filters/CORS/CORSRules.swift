import PorticoAPI

/// A route's `corsPolicy`, ready to answer with (https://fetch.spec.whatwg.org/#http-cors-protocol): the
/// gateway answers preflight requests from allowed origins itself, and adds the allow and expose fields
/// to every other response to them. Requests from other origins get no CORS fields.
struct CORSRules: Sendable {
  private let origins: [StringMatcher]
  private let allowMethods: String?
  private let allowHeaders: String?
  private let exposeHeaders: String?
  private let maxAge: String?
  private let allowCredentials: Bool

  /// The fields a CORS answer consists of: the upstream's are replaced by the gateway's.
  static let fieldNames = [
    "access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
    "access-control-allow-headers", "access-control-max-age", "access-control-expose-headers",
  ]

  init(_ policy: CorsPolicy) {
    origins = (policy.allowOrigins ?? []).map(StringMatcher.init)
    allowMethods = Self.list(policy.allowMethods)
    allowHeaders = Self.list(policy.allowHeaders)
    exposeHeaders = Self.list(policy.exposeHeaders)
    maxAge = policy.maxAge?.nanoseconds.map { String($0 / 1_000_000_000) }
    allowCredentials = policy.allowCredentials ?? false
  }

  private static func list(_ values: [String]?) -> String? {
    guard let values, !values.isEmpty else { return nil }
    return values.joined(separator: ",")
  }

  func allows(origin: Substring) -> Bool { origins.contains { $0.matches(origin) } }

  /// The answer to a preflight from an allowed origin.
  func preflightFields(origin: String) -> [(name: String, value: String)] {
    var fields: [(name: String, value: String)] = []
    forEachCommonField(origin: origin) { fields.append(($0, $1)) }
    if let allowMethods { fields.append(("access-control-allow-methods", allowMethods)) }
    if let allowHeaders { fields.append(("access-control-allow-headers", allowHeaders)) }
    if let maxAge { fields.append(("access-control-max-age", maxAge)) }
    return fields
  }

  /// Added to any other response to an allowed origin.
  func addResponseFields(origin: String, to edits: inout FieldEdits) {
    forEachCommonField(origin: origin) { edits.add($0, $1) }
    if let exposeHeaders { edits.add("access-control-expose-headers", exposeHeaders) }
  }

  private func forEachCommonField(origin: String, _ body: (String, String) -> Void) {
    body("access-control-allow-origin", origin)
    if allowCredentials { body("access-control-allow-credentials", "true") }
    // The answer depends on the origin: caches must keep one per origin.
    body("vary", "Origin")
  }
}
