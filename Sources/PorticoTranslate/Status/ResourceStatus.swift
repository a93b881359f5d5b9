/// What the translator concluded about one resource: its own validity, kept apart from where it is used.
public struct ResourceStatus: Sendable, Encodable {
  public enum State: String, Sendable, Encodable {
    case accepted = "Accepted"
    case invalid = "Invalid"
  }

  public var resource: ResourceID
  public var location: SourceLocation?
  public var state: State { errors.isEmpty ? .accepted : .invalid }
  public var errors: [Diagnostic] = []
  public var warnings: [Diagnostic] = []
  /// Errors of route tables below a virtual host whose routes were replaced, repeated on the host so that
  /// its owner sees them. They do not make the host invalid.
  public var delegatedErrors: [Diagnostic] = []
  public var usage = Usage()

  /// Where a resource is used. Only the fields that apply to its kind are filled.
  public struct Usage: Sendable, Encodable {
    /// VirtualHost: the VirtualGateways that serve it on this gateway.
    public var attachedVirtualGateways: [ResourceID] = []
    /// VirtualGateway: the VirtualHosts it serves.
    public var selectedVirtualHosts: [ResourceID] = []
    /// VirtualGateway, VirtualHost, RouteTable: the route tables reached by delegation (directly, for tables).
    public var selectedRouteTables: [ResourceID] = []
    /// RouteTable: the resources whose routes delegate to it.
    public var selectedBy: [ResourceID] = []
    /// VirtualHost, RouteTable: TrafficPolicies that set at least one option of one of its routes.
    public var appliedTrafficPolicies: [ResourceID] = []
    /// TrafficPolicy: routes it applies to, by virtual host.
    public var gatewayRoutes: [String: [String]] = [:]
  }

  public init(resource: ResourceID, location: SourceLocation? = nil) {
    self.resource = resource
    self.location = location
  }

  private enum CodingKeys: String, CodingKey {
    case resource, location, state, errors, warnings, delegatedErrors, usage
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(resource, forKey: .resource)
    try container.encodeIfPresent(location, forKey: .location)
    try container.encode(state, forKey: .state)
    try container.encode(errors, forKey: .errors)
    try container.encode(warnings, forKey: .warnings)
    if !delegatedErrors.isEmpty { try container.encode(delegatedErrors, forKey: .delegatedErrors) }
    try container.encode(usage, forKey: .usage)
  }
}

/// Collects statuses while translating; diagnostics are deduplicated, usage lists kept sorted and unique.
struct StatusBook {
  private(set) var statuses: [ResourceID: ResourceStatus] = [:]
  /// What the lists already hold, so that a translation with many findings stays linear.
  private var noted: Set<Note> = []

  private enum Note: Hashable {
    case diagnostic(ResourceID, Diagnostic)
    case delegated(ResourceID, Diagnostic)
    case route(ResourceID, host: String, route: String)
    case usage(ResourceID, AnyKeyPath, ResourceID)
  }

  mutating func touch(_ id: ResourceID, at location: SourceLocation?) {
    if statuses[id] == nil { statuses[id] = ResourceStatus(resource: id, location: location) }
  }

  mutating func add(_ diagnostic: Diagnostic, to id: ResourceID) {
    touch(id, at: nil)
    guard noted.insert(.diagnostic(id, diagnostic)).inserted else { return }
    if diagnostic.isError {
      statuses[id]!.errors.append(diagnostic)
    } else {
      statuses[id]!.warnings.append(diagnostic)
    }
  }

  mutating func echo(_ diagnostic: Diagnostic, to id: ResourceID) {
    touch(id, at: nil)
    guard noted.insert(.delegated(id, diagnostic)).inserted else { return }
    statuses[id]!.delegatedErrors.append(diagnostic)
  }

  /// Records that the TrafficPolicy `id` applies to `route` of `host`, once.
  mutating func recordRoute(_ route: String, of host: String, appliedBy id: ResourceID) {
    guard noted.insert(.route(id, host: host, route: route)).inserted else { return }
    use(id) { usage in usage.gatewayRoutes[host, default: []].append(route) }
  }

  mutating func add(_ diagnostics: [Diagnostic], to id: ResourceID) {
    for diagnostic in diagnostics { add(diagnostic, to: id) }
  }

  mutating func use(_ id: ResourceID, _ update: (inout ResourceStatus.Usage) -> Void) {
    touch(id, at: nil)
    update(&statuses[id]!.usage)
  }

  /// Adds `value` to the list at `keyPath` unless it is there already.
  mutating func record(
    _ value: ResourceID, in keyPath: WritableKeyPath<ResourceStatus.Usage, [ResourceID]>, of id: ResourceID
  ) {
    guard noted.insert(.usage(id, keyPath, value)).inserted else { return }
    use(id) { usage in usage[keyPath: keyPath].append(value) }
  }

  /// Merges a status from another translation of the same resources.
  mutating func absorb(_ status: ResourceStatus) {
    touch(status.resource, at: status.location)
    add(status.errors + status.warnings, to: status.resource)
    for error in status.delegatedErrors { echo(error, to: status.resource) }
    use(status.resource) { usage in usage.merge(status.usage) }
  }

  /// Statuses ordered by resource, each list sorted.
  func sorted() -> [ResourceStatus] {
    statuses.values.sorted { $0.resource < $1.resource }.map { status in
      var status = status
      status.errors = status.errors.sortedBySource()
      status.warnings = status.warnings.sortedBySource()
      status.delegatedErrors = status.delegatedErrors.sortedBySource()
      status.usage.attachedVirtualGateways.sort()
      status.usage.selectedVirtualHosts.sort()
      status.usage.selectedRouteTables.sort()
      status.usage.selectedBy.sort()
      status.usage.appliedTrafficPolicies.sort()
      return status
    }
  }
}
