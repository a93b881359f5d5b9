/// A standalone policy attached to gateway routes through `routeSelector`. Inline options on virtual hosts
/// and routes beat it; among TrafficPolicies the older one wins a field.
public struct TrafficPolicySpec: Codable, Hashable, Sendable {
  public var sourceSelector: NotImplemented?
  public var destinationSelector: NotImplemented?
  public var httpRequestMatchers: NotImplemented?
  public var routeSelector: [RouteSelector]?
  public var policy: Policy?
}

public struct RouteSelector: Codable, Hashable, Sendable {
  public var virtualHostRefs: [ObjectRef]?
  public var virtualHostSelector: ObjectSelector?
  public var routeTableRefs: [ObjectRef]?
  public var routeTableSelector: ObjectSelector?
  /// All these labels must be on the route; absent means every route.
  public var routeLabelMatcher: [String: String]?
}
