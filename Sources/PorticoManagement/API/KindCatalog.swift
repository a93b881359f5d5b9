/// How the API names kinds: the plural in paths, and the API groups each is served under.
public enum KindCatalog {
  public static func plural(of kind: ResourceKind) -> String {
    switch kind {
    case .virtualGateway: return "virtualgateways"
    case .virtualHost: return "virtualhosts"
    case .routeTable: return "routetables"
    case .trafficPolicy: return "trafficpolicies"
    case .staticDestination: return "staticdestinations"
    case .virtualDestination: return "virtualdestinations"
    case .virtualMesh: return "virtualmeshes"
    case .rateLimitServerConfig: return "ratelimitserverconfigs"
    case .rateLimitClientConfig: return "ratelimitclientconfigs"
    case .authConfig: return "authconfigs"
    case .service: return "services"
    case .endpoints: return "endpoints"
    case .secret: return "secrets"
    case .configMap: return "configmaps"
    }
  }

  /// Short names, as kubectl's.
  static let shortNames: [String: ResourceKind] = [
    "vg": .virtualGateway, "vh": .virtualHost, "rt": .routeTable, "tp": .trafficPolicy,
    "sd": .staticDestination, "vd": .virtualDestination, "vm": .virtualMesh, "svc": .service,
    "ep": .endpoints, "cm": .configMap,
  ]

  /// The kind a user means by a plural, a singular, a Kind or a short name, in any case.
  public static func kind(named name: String) -> ResourceKind? {
    let lowered = name.lowercased()
    if let kind = shortNames[lowered] { return kind }
    return ResourceKind.allCases.first { kind in
      let plural = plural(of: kind)
      return lowered == plural || lowered == kind.rawValue.lowercased()
        || (lowered + "s") == plural || (lowered.hasSuffix("y") && lowered.dropLast() + "ies" == plural)
    }
  }

  /// The path of a collection: `/apis/GROUP/VERSION/namespaces/NS/PLURAL`, or `/api/v1/...` for core kinds.
  public static func collectionPath(_ kind: ResourceKind, namespace: String) -> String {
    let group = kind.apiVersions.last!
    let prefix = group == APIGroup.kubernetesCore ? "/api/v1" : "/apis/\(group)"
    return "\(prefix)/namespaces/\(namespace)/\(plural(of: kind))"
  }

  public static func path(_ id: ResourceID) -> String {
    collectionPath(id.kind, namespace: id.namespace) + "/\(id.name)"
      + (id.cluster.map { "?cluster=\($0)" } ?? "")
  }
}
