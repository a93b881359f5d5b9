/// Lookups over a snapshot by id, built once per translation.
struct ResourceIndex {
  let snapshot: ResourceSnapshot
  let virtualHosts: [ResourceID: Resource<VirtualHostSpec>]
  let routeTables: [ResourceID: Resource<RouteTableSpec>]
  let brokenTables: [ResourceID: BrokenResource]
  let staticDestinations: [ResourceID: Resource<StaticDestinationSpec>]
  let services: [ResourceID: Resource<ServiceSpec>]
  let virtualDestinations: [ResourceID: Resource<VirtualDestinationSpec>]
  let virtualMeshes: [ResourceID: Resource<VirtualMeshSpec>]
  let endpoints: [ResourceID: Resource<[EndpointSubset]>]
  let secrets: [ResourceID: Resource<SecretData>]
  let configMaps: [ResourceID: Resource<[String: String]>]
  let rateLimitClientConfigs: [ResourceID: Resource<RateLimitClientConfigSpec>]
  let authConfigs: [ResourceID: Resource<AuthConfigSpec>]

  init(_ snapshot: ResourceSnapshot) {
    self.snapshot = snapshot
    virtualHosts = Dictionary(snapshot.virtualHosts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    routeTables = Dictionary(snapshot.routeTables.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    brokenTables = Dictionary(
      snapshot.broken.filter { $0.id.kind == .routeTable }.map { ($0.id, $0) },
      uniquingKeysWith: { a, _ in a })
    staticDestinations = Dictionary(
      snapshot.staticDestinations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    services = Dictionary(snapshot.services.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    virtualDestinations = Dictionary(
      snapshot.virtualDestinations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    secrets = Dictionary(snapshot.secrets.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    configMaps = Dictionary(snapshot.configMaps.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    virtualMeshes = Dictionary(snapshot.virtualMeshes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    endpoints = Dictionary(snapshot.endpoints.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    rateLimitClientConfigs = Dictionary(
      snapshot.rateLimitClientConfigs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    authConfigs = Dictionary(snapshot.authConfigs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
  }

  /// A table reached by delegation: decoded, or broken (its routes will be replaced).
  enum Table {
    case decoded(Resource<RouteTableSpec>)
    case broken(BrokenResource)

    var id: ResourceID {
      switch self {
      case .decoded(let table): table.id
      case .broken(let table): table.id
      }
    }

    var weight: Int32 {
      if case .decoded(let table) = self { return table.spec.weight ?? 0 }
      return 0
    }
  }

  func table(_ id: ResourceID) -> Table? {
    if let table = routeTables[id] { return .decoded(table) }
    if let table = brokenTables[id] { return .broken(table) }
    return nil
  }

  /// Tables a selector picks, ordered by namespace then name.
  func tables(selectedBy selector: ObjectSelector, ownerNamespace: String) -> [Table] {
    let decoded = snapshot.routeTables
      .filter { selector.selects(namespace: $0.namespace, labels: $0.labels, ownerNamespace: ownerNamespace) }
      .map(Table.decoded)
    let broken = snapshot.broken
      .filter {
        $0.id.kind == .routeTable
          && selector.selects(namespace: $0.id.namespace, labels: $0.labels, ownerNamespace: ownerNamespace)
      }
      .map(Table.broken)
    return (decoded + broken).sorted { $0.id < $1.id }
  }
}
