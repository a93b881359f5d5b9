extension ObjectSelector {
  /// True when a resource in `namespace` with `labels` is selected. Omitted namespaces mean
  /// `ownerNamespace`; `*` means any namespace.
  func selects(namespace: String, labels: [String: String], ownerNamespace: String) -> Bool {
    let namespaces = self.namespaces ?? []
    if namespaces.isEmpty {
      guard namespace == ownerNamespace else { return false }
    } else if !namespaces.contains("*"), !namespaces.contains(namespace) {
      return false
    }
    return Self.labels(self.labels, match: labels)
      && (expressions ?? []).allSatisfy { $0.matches(labels) }
  }

  static func labels(_ required: [String: String]?, match labels: [String: String]) -> Bool {
    (required ?? [:]).allSatisfy { labels[$0.key] == $0.value }
  }
}

extension LabelExpression {
  func matches(_ labels: [String: String]) -> Bool {
    let value = labels[key]
    let values = self.values ?? []
    switch self.operator {
    case .equals, .doubleEquals: return value != nil && values.contains(value!)
    case .notEquals: return value == nil || !values.contains(value!)
    case .in: return value.map(values.contains) ?? false
    case .notIn: return value.map { !values.contains($0) } ?? true
    case .exists: return value != nil
    case .doesNotExist: return value == nil
    }
  }
}

extension ObjectRef {
  /// The referenced id, with the namespace defaulting to the referring resource's.
  func id(_ kind: ResourceKind, defaultNamespace: String) -> ResourceID {
    ResourceID(kind, namespace: namespace ?? defaultNamespace, name: name)
  }
}

extension IngressGatewaySelector {
  /// True when a gateway with `identity` is one of the workloads this selector picks. Refs without a
  /// namespace mean the VirtualGateway's own, `ownerNamespace`.
  func selects(_ identity: GatewayIdentity, ownerNamespace: String) -> Bool {
    let selectors = destinationSelectors ?? []
    if selectors.isEmpty { return true }
    return selectors.contains { $0.selects(identity, ownerNamespace: ownerNamespace) }
  }
}

extension DestinationSelector {
  func selects(_ identity: GatewayIdentity, ownerNamespace: String) -> Bool {
    if let refs = kubeServiceRefs {
      return (refs.services ?? []).contains { ref in
        ref.name == identity.name && (ref.namespace ?? ownerNamespace) == identity.namespace
          && (ref.clusterName ?? identity.cluster) == identity.cluster
      }
    }
    guard let matcher = kubeServiceMatcher else { return true }
    let namespaces = matcher.namespaces ?? []
    let clusters = matcher.clusters ?? []
    return (namespaces.isEmpty || namespaces.contains("*") || namespaces.contains(identity.namespace))
      && (clusters.isEmpty || clusters.contains(identity.cluster))
      && ObjectSelector.labels(matcher.labels, match: identity.labels)
  }
}
