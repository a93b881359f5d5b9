/// Where an effective option value was written.
public struct OptionOrigin: Sendable, Encodable, Hashable, CustomStringConvertible {
  public enum Level: String, Sendable, Encodable {
    case route
    case delegatingRoute
    case virtualHost
    case trafficPolicy
    case virtualGateway
  }

  public var level: Level
  public var resource: ResourceID
  /// The route's name when the option was set on a route.
  public var route: String?
  public var location: SourceLocation?

  /// The resource that sets the option, and its route when it is set on one: what metrics name a policy by.
  public var owner: String { route.map { "\(resource) route \($0)" } ?? "\(resource)" }

  /// Set on a route (its own or a delegating one), not on a host, TrafficPolicy or gateway.
  public var isRouteLevel: Bool { level == .route || level == .delegatingRoute }

  public var description: String {
    let place = route.map { "\(resource) route \($0)" } ?? "\(resource)"
    return "\(level.rawValue) \(place)" + (location.map { " (\($0))" } ?? "")
  }
}

/// A route's options after inheritance: each top-level field holds the closest definition, and records
/// where it came from.
///
/// `headerManipulation` is the exception: every level that sets it applies, so that a virtual host's
/// response header and a route's request header both take effect. Its layers are kept in order, the
/// farthest (TrafficPolicy, virtual host) first and the route's own last.
public struct EffectiveOptions: Sendable, Encodable {
  /// The inherited fields; `headerManipulation` is never set here (see `headerManipulations`).
  public private(set) var values = Policy()
  public private(set) var origins: [String: OptionOrigin] = [:]
  public private(set) var headerManipulations: [HeaderManipulationLayer] = []

  public struct HeaderManipulationLayer: Sendable, Encodable {
    public var manipulation: HeaderManipulation
    public var origin: OptionOrigin
  }

  public init() {}

  /// The names of the fields that are set, in declaration order.
  public var setFields: [String] { Self.fields.map(\.name).filter { origins[$0] != nil } }

  /// Fields that only virtual hosts and TrafficPolicies may set.
  public static let hostOnlyFields: Set<String> = ["trafficShift", "outlierDetection"]

  /// Lays `policy` over the current values: each field `policy` sets replaces the current one.
  public mutating func layer(_ policy: Policy?, from origin: OptionOrigin) {
    guard let policy else { return }
    let isRouteLevel = origin.isRouteLevel
    if let manipulation = policy.headerManipulation {
      headerManipulations.append(HeaderManipulationLayer(manipulation: manipulation, origin: origin))
    }
    for field in Self.fields {
      // Route-level values of host-only fields are reported by validation and ignored here.
      if isRouteLevel, Self.hostOnlyFields.contains(field.name) { continue }
      if field.copy(policy, &values) { origins[field.name] = origin }
    }
  }

  private struct Field: Sendable {
    let name: String
    /// Copies the field from `source` to `target` if `source` sets it; returns whether it did.
    let copy: @Sendable (Policy, inout Policy) -> Bool

    init<Value: Sendable>(_ name: String, _ keyPath: WritableKeyPath<Policy, Value?> & Sendable) {
      self.name = name
      copy = { source, target in
        guard let value = source[keyPath: keyPath] else { return false }
        target[keyPath: keyPath] = value
        return true
      }
    }
  }

  /// Every top-level option but `headerManipulation`; inheritance works field by field over this list.
  private static let fields: [Field] = [
    Field("requestTimeout", \.requestTimeout),
    Field("retries", \.retries),
    Field("faultInjection", \.faultInjection),
    Field("corsPolicy", \.corsPolicy),
    Field("mirror", \.mirror),
    Field("trafficShift", \.trafficShift),
    Field("outlierDetection", \.outlierDetection),
    Field("connectionPoolSettings", \.connectionPoolSettings),
    Field("mtls", \.mtls),
    Field("csrf", \.csrf),
    Field("rateLimit", \.rateLimit),
    Field("extauth", \.extauth),
    Field("jwt", \.jwt),
    Field("rateLimitSettings", \.rateLimitSettings),
    Field("extauthSettings", \.extauthSettings),
    Field("transformations", \.transformations),
    Field("waf", \.waf),
    Field("dlp", \.dlp),
    Field("maxRequestBodyBytes", \.maxRequestBodyBytes),
  ]
}
