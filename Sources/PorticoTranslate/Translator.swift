/// The translator: a pure function from resources and a gateway identity to what that gateway serves, plus a
/// status for every resource. All routing semantics live here; the data plane only executes the result.
public struct Translator: Sendable {
  /// Bounds that keep hostile configurations from taking unbounded time or stack.
  public struct Limits: Sendable {
    /// Routes one translation expands at most; past it a host keeps what it has and reports an error.
    public var maximumRoutes = 250_000
    /// Real configurations nest a handful of route tables; deeper chains are reported and replaced.
    public var maximumDelegationDepth = 32

    public init() {}
  }

  public let limits: Limits

  public init(limits: Limits = Limits()) { self.limits = limits }

  public func translate(_ snapshot: ResourceSnapshot, for gateway: GatewayIdentity) -> Translation {
    var translator = GatewayTranslator(
      snapshot: EastWestGateway.adding(to: snapshot, for: gateway), gateway: gateway, limits: limits)
    let config = translator.buildConfig()
    return Translation(config: config, statuses: translator.status.sorted())
  }

  /// Checks a folder without naming a gateway: each VirtualGateway as deployed to the gateway its first
  /// selector implies, and every virtual host no VirtualGateway serves, on its own. Virtual hosts nothing
  /// serves and route tables nothing delegates to get a warning.
  public func check(_ snapshot: ResourceSnapshot) -> FolderCheck {
    var gateways: [GatewayIdentity] = []
    for virtualGateway in snapshot.virtualGateways {
      let identity = GatewayIdentity.implied(by: virtualGateway)
      if !gateways.contains(identity) { gateways.append(identity) }
    }
    let translations = gateways.map { translate(snapshot, for: $0) }
    var merged = StatusBook()
    for status in translations.flatMap(\.statuses) { merged.absorb(status) }
    var unattached = GatewayTranslator(
      snapshot: snapshot, gateway: GatewayIdentity(name: "unattached"), limits: limits)
    var detached: [VirtualHostConfig] = []
    for host in snapshot.virtualHosts
    where merged.statuses[host.id]?.usage.attachedVirtualGateways.isEmpty ?? true {
      unattached.report(
        .warning, on: host.id, host.source, ["metadata", "name"], "no VirtualGateway serves this virtual host"
      )
      if let config = unattached.buildHost(
        HostSource(host), gatewayOptions: nil, domains: host.spec.domains ?? [])
      {
        detached.append(config)
      }
    }
    for status in unattached.status.sorted() { merged.absorb(status) }
    for table in snapshot.routeTables where merged.statuses[table.id]?.usage.selectedBy.isEmpty ?? true {
      merged.add(
        table.source.diagnostic(.warning, ["metadata", "name"], "no route delegates to this route table"),
        to: table.id)
    }
    let everyDiagnostic = snapshot.diagnostics + merged.sorted().flatMap { $0.errors + $0.warnings }
    return FolderCheck(
      translations: translations, unattachedHosts: detached, statuses: merged.sorted(),
      diagnostics: Array(Set(everyDiagnostic)).sortedBySource())
  }
}

/// A gateway's translation: its configuration and every resource's status.
public struct Translation: Sendable {
  public let config: GatewayConfig
  public let statuses: [ResourceStatus]

  public func status(of id: ResourceID) -> ResourceStatus? { statuses.first { $0.resource == id } }
}

/// The outcome of checking a whole folder.
public struct FolderCheck: Sendable {
  public let translations: [Translation]
  /// Virtual hosts no VirtualGateway serves, built on their own so that their errors are found too.
  public let unattachedHosts: [VirtualHostConfig]
  public let statuses: [ResourceStatus]
  /// Every diagnostic once, in file order: load-time ones and the translator's.
  public let diagnostics: [Diagnostic]

  public var hasErrors: Bool { diagnostics.hasErrors }
}

extension ResourceStatus.Usage {
  mutating func merge(_ other: Self) {
    attachedVirtualGateways = attachedVirtualGateways.union(other.attachedVirtualGateways)
    selectedVirtualHosts = selectedVirtualHosts.union(other.selectedVirtualHosts)
    selectedRouteTables = selectedRouteTables.union(other.selectedRouteTables)
    selectedBy = selectedBy.union(other.selectedBy)
    appliedTrafficPolicies = appliedTrafficPolicies.union(other.appliedTrafficPolicies)
    var routes = gatewayRoutes
    for host in other.gatewayRoutes.keys.sorted() {
      let existing = routes[host] ?? []
      let known = Set(existing)
      routes[host] = existing + other.gatewayRoutes[host]!.filter { !known.contains($0) }
    }
    gatewayRoutes = routes
  }
}

extension Array where Element == ResourceID {
  /// The elements of `self`, then those of `other` not already present.
  func union(_ other: [ResourceID]) -> [ResourceID] {
    self + other.filter { !contains($0) }
  }
}
