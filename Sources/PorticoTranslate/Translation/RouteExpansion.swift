/// Flattens a host's routes: delegation expanded in place, matchers joined, options inherited, invalid
/// routes handled by the host's invalid-route policy (spec §3, §11.3, §11.4).
extension GatewayTranslator {
  /// Appends the routes' expansion to `built`: one accumulator for the whole host, so a route is copied
  /// once however deep the delegation that reaches it.
  mutating func expand(
    _ routes: [Route], of owner: RouteOwner, in scope: DelegationScope, host: inout HostState,
    into built: inout [BuiltRoute]
  ) {
    for (position, route) in routes.enumerated() {
      expand(route, at: position, of: owner, in: scope, host: &host, into: &built)
    }
  }

  private mutating func expand(
    _ route: Route, at position: Int, of owner: RouteOwner, in scope: DelegationScope, host: inout HostState,
    into built: inout [BuiltRoute]
  ) {
    let path = owner.routesPath.appending(position)
    guard spendRouteBudget(host: host) else { return }
    let name = route.name ?? "\(owner.id.name)-\(position)"
    let layer = OptionLayer(
      policy: route.options,
      origin: OptionOrigin(
        level: route.delegateAction == nil ? .route : .delegatingRoute, resource: owner.id,
        route: (scope.names + [name]).joined(separator: "."),
        location: owner.source.location(of: path.appending("options"))),
      source: owner.source, path: path.appending("options"))
    var inner = scope
    inner.names.append(name)
    inner.chain.append(
      ChainLink(
        resource: owner.id, route: name, routeIndex: position, location: owner.source.location(of: path)))
    inner.labels.merge(route.labels ?? [:]) { _, child in child }

    let errors = owner.diagnostics.filter { $0.isError && $0.path.hasPrefix(path) }
    if route.failedToDecode || !errors.isEmpty {
      let matchersUsable =
        !route.failedToDecode && !errors.contains { $0.path.hasPrefix(path.appending("matchers")) }
      let matchers =
        matchersUsable ? combinedMatchers(route, of: owner, at: path, in: scope) : scope.replacementScope
      invalidRoute(
        matchers: matchers, errors: errors, owner: owner, path: path, scope: inner, host: &host, into: &built)
      return
    }

    let matchers = combinedMatchers(route, of: owner, at: path, in: scope)
    guard !matchers.isEmpty else { return }

    if let delegate = route.delegateAction {
      inner.parentMatchers = matchers
      inner.layers.append(layer)
      inner.passFullPath = delegate.passFullPath ?? false
      expand(delegate, at: path, of: owner, matchers: matchers, in: inner, host: &host, into: &built)
      return
    }

    let action: RouteActionConfig
    if let forward = route.routeAction {
      let outcome = resolver.resolve(
        forward.destinations ?? [], namespace: owner.namespace,
        at: path.appending("routeAction").appending("destinations"))
      var routeErrors: [Diagnostic] = []
      for finding in outcome.findings {
        let diagnostic = owner.source.diagnostic(finding.severity, finding.path, finding.message)
        status.add(diagnostic, to: owner.id)
        if diagnostic.isError { routeErrors.append(diagnostic) }
      }
      if !routeErrors.isEmpty {
        invalidRoute(
          matchers: matchers, errors: routeErrors, owner: owner, path: path, scope: inner, host: &host,
          into: &built)
        return
      }
      action = .forward(.init(destinations: outcome.destinations, pathRewrite: forward.pathRewrite))
    } else if let redirect = route.redirectAction {
      action = .redirect(redirect)
    } else if let response = route.directResponseAction {
      action = .directResponse(status: Int(response.status), body: response.body)
    } else {
      return
    }
    inner.layers.append(layer)
    finish(
      matchers: matchers, action: action, owner: owner, path: path, scope: inner, host: &host, into: &built)
  }

  /// Counts expanded routes so that hostile delegation (tables reaching one another many times over) cannot
  /// make a translation take unbounded time; past the budget the host keeps what it has and reports it.
  private mutating func spendRouteBudget(host: HostState) -> Bool {
    routeBudget -= 1
    if routeBudget == -1 {
      report(
        .error, on: host.source.owner, host.source.source, host.source.specPath.appending("routes"),
        "delegation expands to more than \(limits.maximumRoutes) routes; the rest are not built")
    }
    return routeBudget >= 0
  }

  /// The route's matchers joined under each parent matcher (a cross product). Matchers that cannot be joined
  /// (passFullPath violations) or can never match are skipped with a warning.
  private mutating func combinedMatchers(
    _ route: Route, of owner: RouteOwner, at path: FieldPath, in scope: DelegationScope
  ) -> [RouteMatcher] {
    let own: [HTTPMatcher?] = (route.matchers?.isEmpty ?? true) ? [nil] : route.matchers!.map { $0 }
    var combined: [RouteMatcher] = []
    for (position, matcher) in own.enumerated() {
      let at = route.matchers?.isEmpty ?? true ? path : path.appending("matchers").appending(position)
      guard let parents = scope.parentMatchers else {
        combined.append(joiner.standalone(matcher))
        continue
      }
      for parent in parents {
        do {
          combined.append(try joiner.join(matcher, under: parent, passFullPath: scope.passFullPath))
        } catch {
          report(.warning, on: owner.id, owner.source, at, "skipped: \(error.message)")
        }
      }
    }
    return combined.filter { matcher in
      guard matcher.canMatch else {
        report(
          .warning, on: owner.id, owner.source, path,
          "can never match: it requires methods \(matcher.methods.joined(separator: " and "))")
        return false
      }
      return true
    }
  }

  private mutating func expand(
    _ delegate: DelegateAction, at path: FieldPath, of owner: RouteOwner, matchers: [RouteMatcher],
    in scope: DelegationScope, host: inout HostState, into built: inout [BuiltRoute]
  ) {
    let actionPath = path.appending("delegateAction")
    var tables: [ResourceIndex.Table] = []
    for (position, ref) in (delegate.refs ?? []).enumerated() {
      let id = ref.id(.routeTable, defaultNamespace: owner.namespace)
      if let table = index.table(id) {
        if !tables.contains(where: { $0.id == id }) { tables.append(table) }
      } else {
        report(
          .warning, on: owner.id, owner.source, actionPath.appending("refs").appending(position),
          "RouteTable \(id.qualifiedName) not found; it contributes no routes")
      }
    }
    if let selector = delegate.selector {
      let selected = index.tables(selectedBy: selector, ownerNamespace: owner.namespace)
      if selected.isEmpty {
        report(
          .warning, on: owner.id, owner.source, actionPath.appending("selector"),
          "selector matches no route table")
      }
      for table in selected where !tables.contains(where: { $0.id == table.id }) { tables.append(table) }
    }
    // Higher weight first; equal weights keep refs-then-selector order (a stable sort).
    tables = tables.enumerated().sorted { ($0.element.weight, -$0.offset) > ($1.element.weight, -$1.offset) }
      .map(\.element)

    var inner = scope
    inner.forcedSort = scope.forcedSort ?? delegate.sortMethod
    let subtreeStart = built.count
    for table in tables {
      status.record(table.id, in: \.selectedRouteTables, of: owner.id)
      status.record(owner.id, in: \.selectedBy, of: table.id)
      status.record(table.id, in: \.selectedRouteTables, of: host.source.owner)
      let branch = scope.tables.map(\.id)
      if branch.contains(table.id) {
        let chain = branch.loop(closedBy: table.id)
        let message =
          "delegation cycle: " + chain.map { "[\($0.namespace).\($0.name)]" }.joined(separator: " -> ")
        let error = owner.source.diagnostic(.error, actionPath, message)
        status.add(error, to: owner.id)
        invalidRoute(
          matchers: matchers, errors: [error], owner: owner, path: path, scope: scope, host: &host,
          into: &built)
        continue
      }
      if branch.count >= limits.maximumDelegationDepth {
        let error = owner.source.diagnostic(
          .error, actionPath,
          "delegation nests deeper than \(limits.maximumDelegationDepth) route tables (from [\(branch[0].namespace).\(branch[0].name)])"
        )
        status.add(error, to: owner.id)
        invalidRoute(
          matchers: matchers, errors: [error], owner: owner, path: path, scope: scope, host: &host,
          into: &built)
        continue
      }
      switch table {
      case .broken(let broken):
        invalidRoute(
          matchers: matchers, errors: broken.diagnostics.errors, owner: owner, path: path, scope: scope,
          host: &host, into: &built)
      case .decoded(let resource):
        let tableErrors = resource.diagnostics.filter {
          $0.isError && !$0.path.hasPrefix(["spec", "routes"])
        }
        if !tableErrors.isEmpty {
          invalidRoute(
            matchers: matchers, errors: tableErrors, owner: owner, path: path, scope: scope, host: &host,
            into: &built)
          continue
        }
        var tableScope = inner
        tableScope.tables.append(resource)
        let tableOwner = RouteOwner(
          id: resource.id, source: resource.source, namespace: resource.namespace,
          routesPath: ["spec", "routes"],
          diagnostics: resource.diagnostics, table: resource)
        expand(resource.spec.routes ?? [], of: tableOwner, in: tableScope, host: &host, into: &built)
      }
    }
    // The delegateAction that chose ROUTE_SPECIFICITY sorts its whole subtree; nested choices defer to it.
    if scope.forcedSort == nil, delegate.sortMethod == .routeSpecificity {
      let subtree = built[subtreeStart...].enumerated().map { ($0.offset, $0.element.config.specificity) }
      let order = subtree.sorted { lhs, rhs in lhs.1 != rhs.1 ? lhs.1 < rhs.1 : lhs.0 < rhs.0 }
      let sorted = order.map { built[subtreeStart + $0.0] }
      built.replaceSubrange(subtreeStart..., with: sorted)
    }
  }

  /// A route that cannot be built: replaced in place (default), dropped, answered with the host's direct
  /// response, or rejecting the whole host, as its `invalidRoutePolicy` says.
  private mutating func invalidRoute(
    matchers: [RouteMatcher], errors: [Diagnostic], owner: RouteOwner, path: FieldPath,
    scope: DelegationScope, host: inout HostState, into built: inout [BuiltRoute]
  ) {
    if owner.id != host.source.owner {
      for error in errors { status.echo(error, to: host.source.owner) }
    }
    let action: RouteActionConfig
    switch host.invalidRoutePolicy {
    case let policy? where policy.drop != nil:
      return
    case let policy? where policy.rejectVirtualHost != nil:
      host.rejected = true
      return
    case let policy? where policy.directResponse != nil:
      action = .directResponse(status: Int(policy.directResponse!.status), body: policy.directResponse!.body)
    default:
      action = .directResponse(
        status: RouteActionConfig.invalidRouteStatus, body: RouteActionConfig.invalidRouteBody)
    }
    let start = built.count
    finish(
      matchers: matchers, action: action, owner: owner, path: path, scope: scope, host: &host,
      enforcing: false, into: &built)
    built[start].config.replacement = .init(errors: errors)
  }

  /// The route with its options resolved: gateway defaults, then TrafficPolicies (older wins), then the
  /// host and each delegating route, then the route itself. A route that an option the data plane does not
  /// enforce reaches, or that a TrafficPolicy with errors selects, is replaced as invalid instead
  /// (`enforcing`; a replacement itself is not checked again).
  private mutating func finish(
    matchers: [RouteMatcher], action: RouteActionConfig, owner: RouteOwner, path: FieldPath,
    scope: DelegationScope, host: inout HostState, enforcing: Bool = true, into built: inout [BuiltRoute]
  ) {
    let name = scope.names.joined(separator: ".")
    let place = TrafficPolicySet.RoutePlace(
      virtualHost: host.source.resource, tables: scope.tables, labels: scope.labels)
    var layers: [OptionLayer] = host.gatewayOptions.map { [$0] } ?? []
    for policy in policies.applicable(to: place).reversed() {
      layers.append(
        OptionLayer(
          policy: policy.spec.policy,
          origin: OptionOrigin(
            level: .trafficPolicy, resource: policy.id, route: nil,
            location: policy.source.location(of: ["spec", "policy"])),
          source: policy.source, path: ["spec", "policy"]))
      status.recordRoute(name, of: host.source.name, appliedBy: policy.id)
      status.record(policy.id, in: \.appliedTrafficPolicies, of: owner.id)
    }
    layers += scope.layers
    if enforcing {
      var errors: [Diagnostic] = []
      for broken in policies.invalid(applicableTo: place) {
        let error = broken.source.diagnostic(
          .error, ["spec"],
          "this TrafficPolicy has errors; the routes it selects answer as invalid routes until they are fixed"
        )
        status.add(error, to: broken.id)
        errors.append(error)
      }
      for (resource, error) in UnenforcedOptions.errors(in: layers) {
        status.add(error, to: resource)
        errors.append(error)
      }
      if !errors.isEmpty {
        invalidRoute(
          matchers: matchers, errors: errors, owner: owner, path: path, scope: scope, host: &host,
          into: &built)
        return
      }
    }
    var options = EffectiveOptions()
    for layer in layers { options.layer(layer.policy, from: layer.origin) }
    var rateLimit: RateLimitConfig?
    var extauth: ExtAuthConfig?
    var waf: WAFConfig?
    var transformations: TransformationConfig?
    if enforcing {
      do throws(OptionProblems) {
        waf = try resolveWAF(options).get()
        transformations = try resolveTransformations(options).get()
        extauth = try resolveExtAuth(options).get()
        rateLimit = try resolveRateLimit(options, action: action).get()
      } catch {
        invalidRoute(
          matchers: matchers, errors: error.errors, owner: owner, path: path, scope: scope, host: &host,
          into: &built)
        return
      }
    }
    var config = RouteConfig(
      name: name, matchers: matchers, action: action, options: options, labels: scope.labels,
      chain: scope.chain,
      replacement: nil)
    if case .forward(var forward) = action, let shift = shiftedDestinations(options) {
      // Each destination's share is split among the shift's destinations: the weights multiply.
      forward.destinations = forward.destinations.flatMap { destination in
        shift.map {
          .init(
            upstream: $0.upstream,
            weight: UInt32(clamping: UInt64(destination.weight) * UInt64($0.weight)),
            headerManipulation: destination.headerManipulation ?? $0.headerManipulation)
        }
      }
      config.action = .forward(forward)
    }
    config.mirror = mirrorTarget(options)
    config.rateLimit = rateLimit
    config.extauth = extauth
    config.waf = waf
    config.transformations = transformations
    if enforcing { config.dlp = resolveDLP(options) }
    built.append(BuiltRoute(config: config, owner: owner.id, source: owner.source, path: path))
  }

  /// The destinations of the effective `trafficShift`, resolved; problems go on the resource that set it.
  private mutating func shiftedDestinations(_ options: EffectiveOptions) -> [RouteActionConfig
    .DestinationConfig]?
  {
    guard let destinations = options.values.trafficShift?.destinations, !destinations.isEmpty,
      let origin = options.origins["trafficShift"]
    else { return nil }
    let outcome = resolver.resolve(destinations, namespace: origin.resource.namespace, at: ["trafficShift"])
    report(outcome.findings, on: origin)
    return outcome.destinations.isEmpty ? nil : outcome.destinations
  }

  /// Where the effective `mirror` sends copies, resolved; nil when it names nothing that resolves.
  private mutating func mirrorTarget(_ options: EffectiveOptions) -> RouteConfig.MirrorTarget? {
    guard let mirror = options.values.mirror, let origin = options.origins["mirror"] else { return nil }
    let destination = WeightedDestination(
      kubeService: mirror.kubeService.map {
        KubeServiceDestination(
          name: $0.name, namespace: $0.namespace, clusterName: $0.clusterName, port: mirror.port)
      },
      staticDestination: mirror.staticDestination)
    let outcome = resolver.resolve([destination], namespace: origin.resource.namespace, at: ["mirror"])
    report(outcome.findings, on: origin)
    guard let upstream = outcome.destinations.first?.upstream else { return nil }
    return RouteConfig.MirrorTarget(upstream: upstream, percentage: mirror.percentage ?? 100)
  }

  private mutating func report(_ findings: [DestinationResolver.Finding], on origin: OptionOrigin) {
    for finding in findings {
      status.add(
        Diagnostic(finding.severity, at: origin.location, path: finding.path, finding.message),
        to: origin.resource)
    }
  }
}

extension RouteConfig {
  /// ROUTE_SPECIFICITY order: exact, then regex, suffix, prefix; longer literal paths first. A route ranks
  /// by its most specific matcher.
  var specificity: Specificity {
    matchers.map { matcher in
      let rank: Int =
        switch matcher.path.kind {
        case .exact: 0
        case .regex: 1
        case .suffix: 2
        case .prefix: 3
        }
      return Specificity(rank: rank, length: matcher.path.kind == .regex ? 0 : matcher.path.literalLength)
    }.min() ?? Specificity(rank: 4, length: 0)
  }

  struct Specificity: Comparable {
    let rank: Int
    let length: Int
    static func < (lhs: Self, rhs: Self) -> Bool {
      lhs.rank != rhs.rank ? lhs.rank < rhs.rank : lhs.length > rhs.length
    }
  }
}

extension Array where Element == ResourceID {
  /// The branch from the first occurrence of `table`, then `table` again: the loop a cycle error names.
  func loop(closedBy table: ResourceID) -> [ResourceID] {
    guard let first = firstIndex(of: table) else { return self + [table] }
    return Array(self[first...]) + [table]
  }
}
