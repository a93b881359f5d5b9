import PorticoAPI

/// `options.rateLimit` resolved into what the data plane counts: the RateLimitServerConfigs the selector
/// picks (in the namespace of the resource that sets the option unless it names others), and the actions,
/// inline or from a RateLimitClientConfig. Anything that does not resolve is an error on the resource that
/// set the option, and the route is replaced (spec §11): a limit is never silently skipped.
extension GatewayTranslator {
  mutating func resolveRateLimit(
    _ options: EffectiveOptions, action: RouteActionConfig
  ) -> Result<RateLimitConfig?, OptionProblems> {
    guard let limit = options.values.rateLimit, let origin = options.origins["rateLimit"] else {
      return .success(nil)
    }
    var errors: [Diagnostic] = []
    func fail(_ path: FieldPath, _ message: String) {
      errors.append(optionError("rateLimit", origin, at: path, message))
    }
    var serverConfigs: [RateLimitConfig.ServerConfig] = []
    if let selector = limit.ratelimitServerConfigSelector {
      let owner = origin.resource.namespace
      for config in index.snapshot.rateLimitServerConfigs
      where selector.selects(namespace: config.namespace, labels: config.labels, ownerNamespace: owner) {
        if config.hasErrors || config.spec.raw == nil {
          fail(
            ["ratelimitServerConfigSelector"],
            "RateLimitServerConfig \(config.id.qualifiedName) has errors; the routes that use it are replaced"
          )
        } else {
          serverConfigs.append(.init(id: config.id.qualifiedName, rules: config.spec.raw!))
        }
      }
      for broken in index.snapshot.broken
      where broken.id.kind == .rateLimitServerConfig
        && selector.selects(namespace: broken.id.namespace, labels: broken.labels, ownerNamespace: owner)
      {
        fail(["ratelimitServerConfigSelector"], "RateLimitServerConfig \(broken.id.qualifiedName) has errors")
      }
      if serverConfigs.isEmpty, errors.isEmpty {
        fail(["ratelimitServerConfigSelector"], "selects no RateLimitServerConfig")
      }
    }
    var actions = limit.raw?.rateLimits ?? []
    if let ref = limit.ratelimitClientConfigRef {
      let id = ref.id(.rateLimitClientConfig, defaultNamespace: origin.resource.namespace)
      if let client = index.rateLimitClientConfigs[id], !client.hasErrors {
        actions = client.spec.rateLimits?.raw?.rateLimits ?? []
      } else {
        let state = index.rateLimitClientConfigs[id] == nil ? "not found" : "has errors"
        fail(["ratelimitClientConfigRef"], "RateLimitClientConfig \(id.qualifiedName) \(state)")
      }
    }
    // No filter sets request metadata yet (external auth will): a `metadata` action would only ever yield its
    // default, or nothing and drop its limit. Not enforced, so it fails closed.
    for (index, list) in actions.enumerated() {
      for (kind, entries) in [("actions", list.actions ?? []), ("setActions", list.setActions ?? [])] {
        for (position, entry) in entries.enumerated() where entry.metadata != nil {
          let path: FieldPath =
            limit.raw != nil
            ? ["raw", "rateLimits", .index(index), .key(kind), .index(position), "metadata"]
            : ["ratelimitClientConfigRef"]
          fail(
            path,
            "metadata actions are not enforced by Portico yet (no filter sets request metadata); the routes they apply to answer as invalid routes"
          )
        }
      }
    }
    guard errors.isEmpty else { return .failure(OptionProblems(errors: errors)) }
    let settings = options.values.rateLimitSettings
    if settings?.ratelimitServerRef != nil, let settingsOrigin = options.origins["rateLimitSettings"] {
      status.add(
        Diagnostic(
          .warning, at: settingsOrigin.location, path: ["ratelimitServerRef"],
          "Portico counts in its own store (the gateway's --rate-limit-store); ratelimitServerRef is not used"
        ),
        to: settingsOrigin.resource)
    }
    var destination = ""
    if case .forward(let forward) = action { destination = forward.destinations.first?.upstream ?? "" }
    return .success(
      RateLimitConfig(
        serverConfigs: serverConfigs, actions: actions, denyOnFail: settings?.denyOnFail ?? false,
        requestTimeout: settings?.requestTimeout, sourceCluster: gateway.name, destinationCluster: destination
      ))
  }
}
