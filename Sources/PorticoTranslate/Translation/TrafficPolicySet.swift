/// The valid TrafficPolicies, oldest first, and which of them reach a given route (spec §1.5, §11.2).
struct TrafficPolicySet {
  let policies: [Resource<TrafficPolicySpec>]
  /// Policies with errors outside their `routeSelector`: what they select is known, what they ask for is
  /// not, so the routes they select are not served (fail closed) rather than served without them.
  let invalid: [Resource<TrafficPolicySpec>]

  init(_ all: [Resource<TrafficPolicySpec>]) {
    invalid = all.filter { policy in
      policy.hasErrors
        && !policy.diagnostics.contains { $0.isError && $0.path.hasPrefix(["spec", "routeSelector"]) }
    }
    policies = all.filter { !$0.hasErrors && $0.spec.policy != nil }.sorted { lhs, rhs in
      let l = lhs.metadata.creationTimestamp ?? ""
      let r = rhs.metadata.creationTimestamp ?? ""
      // Without a timestamp a policy counts as newest; ties fall back to namespace and name.
      if l != r { return r.isEmpty || (!l.isEmpty && l < r) }
      return lhs.id < rhs.id
    }
  }

  /// What a route is known by when selecting policies for it.
  struct RoutePlace {
    /// The VirtualHost resource; nil for a virtual host written inline in a VirtualGateway.
    let virtualHost: Resource<VirtualHostSpec>?
    let tables: [Resource<RouteTableSpec>]
    let labels: [String: String]
  }

  /// Policies that apply to the route, oldest first.
  func applicable(to place: RoutePlace) -> [Resource<TrafficPolicySpec>] {
    policies.filter { $0.selects(place) }
  }

  /// Policies with errors that select the route.
  func invalid(applicableTo place: RoutePlace) -> [Resource<TrafficPolicySpec>] {
    invalid.filter { $0.selects(place) }
  }
}

extension Resource<TrafficPolicySpec> {
  fileprivate func selects(_ place: TrafficPolicySet.RoutePlace) -> Bool {
    (spec.routeSelector ?? []).contains { $0.selects(place, policyNamespace: namespace) }
  }
}

extension RouteSelector {
  /// Virtual host criteria reach every route a host serves, delegated ones included; route table criteria
  /// reach the routes of those tables and of the tables below them. Without either, every route is reached.
  func selects(_ place: TrafficPolicySet.RoutePlace, policyNamespace: String) -> Bool {
    guard ObjectSelector.labels(routeLabelMatcher, match: place.labels) else { return false }
    let hostRefs = virtualHostRefs ?? []
    let tableRefs = routeTableRefs ?? []
    let hasHostCriteria = !hostRefs.isEmpty || virtualHostSelector != nil
    let hasTableCriteria = !tableRefs.isEmpty || routeTableSelector != nil
    if !hasHostCriteria, !hasTableCriteria { return true }
    if hasHostCriteria, let host = place.virtualHost {
      if hostRefs.contains(where: { $0.id(.virtualHost, defaultNamespace: policyNamespace) == host.id }) {
        return true
      }
      if let selector = virtualHostSelector,
        selector.selects(namespace: host.namespace, labels: host.labels, ownerNamespace: policyNamespace)
      {
        return true
      }
    }
    guard hasTableCriteria else { return false }
    return place.tables.contains { table in
      tableRefs.contains { $0.id(.routeTable, defaultNamespace: policyNamespace) == table.id }
        || (routeTableSelector?.selects(
          namespace: table.namespace, labels: table.labels, ownerNamespace: policyNamespace) ?? false)
    }
  }
}
