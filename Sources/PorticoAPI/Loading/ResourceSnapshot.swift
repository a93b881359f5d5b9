@_exported import PorticoCore

/// Everything read from a configuration folder: the decoded resources, those that could not be decoded,
/// and diagnostics about documents that were not resources at all.
public struct ResourceSnapshot: Sendable {
  public var virtualGateways: [Resource<VirtualGatewaySpec>] = []
  public var virtualHosts: [Resource<VirtualHostSpec>] = []
  public var routeTables: [Resource<RouteTableSpec>] = []
  public var trafficPolicies: [Resource<TrafficPolicySpec>] = []
  public var staticDestinations: [Resource<StaticDestinationSpec>] = []
  public var virtualDestinations: [Resource<VirtualDestinationSpec>] = []
  public var virtualMeshes: [Resource<VirtualMeshSpec>] = []
  public var rateLimitServerConfigs: [Resource<RateLimitServerConfigSpec>] = []
  public var rateLimitClientConfigs: [Resource<RateLimitClientConfigSpec>] = []
  public var authConfigs: [Resource<AuthConfigSpec>] = []
  public var services: [Resource<ServiceSpec>] = []
  public var endpoints: [Resource<[EndpointSubset]>] = []
  public var secrets: [Resource<SecretData>] = []
  /// ConfigMaps' `data`, by key (OPA policies' modules).
  public var configMaps: [Resource<[String: String]>] = []
  public var broken: [BrokenResource] = []
  /// Diagnostics that belong to no resource (unreadable files, documents without a kind).
  public var diagnostics: [Diagnostic] = []
  /// Every regex of the snapshot, compiled once at load time.
  public var regexes = RegexTable()

  public init() {}

  /// All diagnostics: those of each resource and those that belong to none, in file order.
  public var allDiagnostics: [Diagnostic] {
    var all = diagnostics
    all += virtualGateways.flatMap(\.diagnostics)
    all += virtualHosts.flatMap(\.diagnostics)
    all += routeTables.flatMap(\.diagnostics)
    all += trafficPolicies.flatMap(\.diagnostics)
    all += staticDestinations.flatMap(\.diagnostics)
    all += virtualDestinations.flatMap(\.diagnostics)
    all += virtualMeshes.flatMap(\.diagnostics)
    all += rateLimitServerConfigs.flatMap(\.diagnostics)
    all += rateLimitClientConfigs.flatMap(\.diagnostics)
    all += authConfigs.flatMap(\.diagnostics)
    all += services.flatMap(\.diagnostics)
    all += endpoints.flatMap(\.diagnostics)
    all += secrets.flatMap(\.diagnostics)
    all += configMaps.flatMap(\.diagnostics)
    all += broken.flatMap(\.diagnostics)
    return all.sortedBySource()
  }

  mutating func sortResources() {
    virtualGateways.sort { $0.id < $1.id }
    virtualHosts.sort { $0.id < $1.id }
    routeTables.sort { $0.id < $1.id }
    trafficPolicies.sort { $0.id < $1.id }
    staticDestinations.sort { $0.id < $1.id }
    virtualDestinations.sort { $0.id < $1.id }
    virtualMeshes.sort { $0.id < $1.id }
    rateLimitServerConfigs.sort { $0.id < $1.id }
    rateLimitClientConfigs.sort { $0.id < $1.id }
    authConfigs.sort { $0.id < $1.id }
    services.sort { $0.id < $1.id }
    endpoints.sort { $0.id < $1.id }
    secrets.sort { $0.id < $1.id }
    configMaps.sort { $0.id < $1.id }
    broken.sort { $0.id < $1.id }
  }
}

extension Array where Element == Diagnostic {
  /// Ordered by file, line and column; diagnostics without a place come first.
  public func sortedBySource() -> [Diagnostic] {
    enumerated().sorted { lhs, rhs in
      let l = lhs.element.location
      let r = rhs.element.location
      switch (l, r) {
      case (nil, nil): return lhs.offset < rhs.offset
      case (nil, _): return true
      case (_, nil): return false
      case (let l?, let r?):
        if (l.file, l.line, l.column) != (r.file, r.line, r.column) {
          return (l.file, l.line, l.column) < (r.file, r.line, r.column)
        }
        return lhs.offset < rhs.offset
      }
    }.map(\.element)
  }
}

/// Compiled regexes by pattern and case sensitivity.
public struct RegexTable: Sendable {
  private var compiled: [Key: RE2Regex] = [:]

  struct Key: Hashable {
    let pattern: String
    let ignoresCase: Bool
  }

  public init() {}

  /// The compiled regex, compiling and remembering it on first use.
  public mutating func regex(_ pattern: String, ignoringCase: Bool = false) throws(RE2Regex.CompileError)
    -> RE2Regex
  {
    let key = Key(pattern: pattern, ignoresCase: ignoringCase)
    if let regex = compiled[key] { return regex }
    let regex = try RE2Regex(pattern, ignoringCase: ignoringCase)
    compiled[key] = regex
    return regex
  }

  /// This table with `other`'s regexes added.
  mutating func absorb(_ other: RegexTable) {
    compiled.merge(other.compiled) { mine, _ in mine }
  }

  /// The regex if it was compiled at load time.
  public func lookup(_ pattern: String, ignoringCase: Bool = false) -> RE2Regex? {
    compiled[Key(pattern: pattern, ignoresCase: ignoringCase)]
  }
}
