import PorticoAPI

/// Options that Portico reads but whose behaviour the data plane does not have yet. Serving a route with one
/// of them would silently skip what it asks for (authentication, a limit, a rewrite), so each is an error on
/// the field that sets it, and every route it reaches is replaced as invalid (spec §11.4, §11.9): fail
/// closed, never open. A field leaves this list in the change that makes the data plane enforce it.
enum UnenforcedOptions {
  struct Field: Sendable {
    /// The top-level option, then nested keys.
    let path: [String]
    /// What is not enforced, as the user wrote it.
    let feature: String
    /// Whether a level sets the top-level option (and so decides it, inheritance being per top-level field).
    let isPresent: @Sendable (Policy) -> Bool
    /// Whether the value a level sets asks for something the data plane would skip.
    let isUnenforced: @Sendable (Policy) -> Bool

    init<Value>(
      _ path: [String], _ feature: String, _ keyPath: KeyPath<Policy, Value?> & Sendable,
      unenforced: @escaping @Sendable (Value) -> Bool = { _ in true }
    ) {
      self.path = path
      self.feature = feature
      isPresent = { $0[keyPath: keyPath] != nil }
      isUnenforced = { $0[keyPath: keyPath].map(unenforced) ?? false }
    }
  }

  static let fields: [Field] = [
    Field(["transformations"], "transformations.injaTemplateTransformation", \.transformations) {
      $0.transformations.contains { $0?.injaTemplateTransformation != nil }
    },
    Field(["transformations"], "transformations.recalculateRoutingDestination", \.transformations) {
      ($0.request ?? []).contains { $0.recalculateRoutingDestination == true }
    },
    Field(["mtls"], "upstream mutual TLS (mtls)", \.mtls),
    Field(
      ["connectionPoolSettings", "http", "h2UpgradePolicy"], "connectionPoolSettings.http.h2UpgradePolicy",
      \.connectionPoolSettings
    ) { $0.http?.h2UpgradePolicy != nil },
    Field(
      ["connectionPoolSettings", "http", "useClientProtocol"],
      "connectionPoolSettings.http.useClientProtocol",
      \.connectionPoolSettings
    ) { $0.http?.useClientProtocol == true },
    Field(
      ["connectionPoolSettings", "tcp", "tcpKeepalive"], "connectionPoolSettings.tcp.tcpKeepalive",
      \.connectionPoolSettings
    ) { $0.tcp?.tcpKeepalive != nil },
    // Endpoints are judged on every outcome; a user tuning the interval expects something else.
    Field(["outlierDetection", "interval"], "outlierDetection.interval", \.outlierDetection) {
      $0.interval != nil
    },
  ]

  /// For each unenforced field in effect on a route, the closest level that sets it and the error for it.
  static func errors(in layers: [OptionLayer]) -> [(resource: ResourceID, error: Diagnostic)] {
    fields.compactMap { field in
      // Host-only fields written on a route are reported by validation and not inherited.
      let hostOnly = EffectiveOptions.hostOnlyFields.contains(field.path[0])
      guard
        let layer = layers.last(where: { layer in
          (layer.policy.map(field.isPresent) ?? false) && !(hostOnly && layer.origin.isRouteLevel)
        }),
        let policy = layer.policy, field.isUnenforced(policy)
      else { return nil }
      let message =
        "\(field.feature) is not enforced by this version of Portico; "
        + "the routes it applies to answer as invalid routes instead of being served without it"
      return (layer.origin.resource, layer.source.diagnostic(.error, layer.path(of: field.path), message))
    }
  }
}
