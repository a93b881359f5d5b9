/// Which VirtualGateways select the gateway, the listeners they ask for, and the hosts each serves
/// (spec §1.1, §1.2, §11.11).
extension GatewayTranslator {
  private struct ChainDraft {
    var chain: ServerNameChain
    private(set) var hosts: [HostSource] = []
    /// The VirtualHosts among `hosts`, so that a host selected twice is added once without a scan.
    private var selected: Set<ResourceID> = []
    var gatewayOptions: OptionLayer?

    init(chain: ServerNameChain, gatewayOptions: OptionLayer?) {
      self.chain = chain
      self.gatewayOptions = gatewayOptions
    }

    mutating func add(_ host: Resource<VirtualHostSpec>) {
      if selected.insert(host.id).inserted { hosts.append(HostSource(host)) }
    }

    mutating func add(inline host: HostSource) { hosts.append(host) }
  }

  private struct ListenerDraft {
    var listener: Listener
    var chains: [String: ChainDraft] = [:]
    var chainOrder: [String] = []
  }

  mutating func buildConfig() -> GatewayConfig {
    // Every AuthConfig, used or not, so that one that does not resolve (a policy that does not compile)
    // is reported by `validate` before a route needs it.
    for config in index.snapshot.authConfigs { resolveSteps(of: config.id) }
    var drafts: [String: ListenerDraft] = [:]
    var order: [String] = []
    for virtualGateway in index.snapshot.virtualGateways {
      let selectors = (virtualGateway.spec.ingressGatewaySelectors ?? []).enumerated().filter {
        $0.element.selects(gateway, ownerNamespace: virtualGateway.namespace)
      }
      guard !selectors.isEmpty else { continue }
      let ownErrors = virtualGateway.diagnostics.filter { diagnostic in
        diagnostic.isError && !diagnostic.path.components.contains(.key("virtualHost"))
      }
      if !ownErrors.isEmpty {
        report(
          .warning, on: virtualGateway.id, virtualGateway.source, ["spec"],
          "not served on gateway \(gateway.namespace)/\(gateway.name) because of the errors above")
        continue
      }
      var portNames: [String] = []
      for (position, selector) in selectors {
        let portName = selector.portName ?? Self.defaultPortName(for: virtualGateway.spec)
        guard !portNames.contains(portName) else { continue }
        if !gateway.ports.isEmpty, gateway.ports[portName] == nil {
          report(
            .warning, on: virtualGateway.id, virtualGateway.source,
            ["spec", "ingressGatewaySelectors", .index(position), "portName"],
            "gateway \(gateway.namespace)/\(gateway.name) has no port named '\(portName)'")
          continue
        }
        portNames.append(portName)
        if drafts[portName] == nil {
          order.append(portName)
          drafts[portName] = ListenerDraft(
            listener: Listener(
              portName: portName, port: gateway.ports[portName],
              bindAddress: virtualGateway.spec.options?.bindAddress ?? "0.0.0.0", virtualGateways: [],
              serverNameChains: []))
        }
        drafts[portName]!.listener.virtualGateways.append(virtualGateway.id)
        addHandlers(of: virtualGateway, to: &drafts[portName]!)
      }
    }
    var listeners: [Listener] = []
    for portName in order {
      var draft = drafts[portName]!
      for key in draft.chainOrder {
        let chainDraft = draft.chains[key]!
        var chain = chainDraft.chain
        chain.virtualHosts = buildHosts(
          chainDraft.hosts, gatewayOptions: chainDraft.gatewayOptions, portName: portName)
        draft.listener.serverNameChains.append(chain)
      }
      listeners.append(draft.listener)
    }
    let upstreams = resolver.upstreams.values.sorted { $0.id < $1.id }
    return GatewayConfig(gateway: gateway, listeners: listeners, upstreams: upstreams)
  }

  /// A `tcp` handler with tlsMode PASSTHROUGH: connections whose SNI name it claims go to its
  /// destinations with their TLS untouched.
  private mutating func addPassthrough(
    _ tcp: TCPRoutes, of handler: ConnectionHandler, at handlerIndex: Int, serverNames: [String], key: String,
    virtualGateway: Resource<VirtualGatewaySpec>, to draft: inout ListenerDraft
  ) {
    // Validation has warned about any other mode.
    guard handler.connectionOptions?.sslConfig?.tlsMode == .passthrough else { return }
    let path: FieldPath = ["spec", "connectionHandlers", .index(handlerIndex), "tcp"]
    guard draft.chains[key] == nil else {
      report(
        .error, on: virtualGateway.id, virtualGateway.source,
        ["spec", "connectionHandlers", .index(handlerIndex), "connectionMatch"],
        "these serverNames are already served by another handler on port '\(draft.listener.portName)'")
      return
    }
    let (destinations, findings) = resolver.resolve(
      (tcp.tcpHosts ?? []).compactMap(\.destination), namespace: virtualGateway.namespace,
      at: path.appending("tcpHosts"))
    for finding in findings {
      report(finding.severity, on: virtualGateway.id, virtualGateway.source, finding.path, finding.message)
    }
    guard !destinations.isEmpty else { return }
    let settings = tcp.options?.tcpProxySettings
    draft.chainOrder.append(key)
    draft.chains[key] = ChainDraft(
      chain: ServerNameChain(
        serverNames: serverNames, sslConfig: handler.connectionOptions?.sslConfig, tls: nil,
        httpsRedirect: false, routeOptions: nil, virtualHosts: [],
        passthrough: TCPForward(
          destinations: destinations, maxConnectAttempts: max(1, Int(settings?.maxConnectAttempts ?? 1)),
          idleTimeout: settings?.idleTimeout)), gatewayOptions: nil)
  }

  /// `http` without TLS, `https` with it.
  static func defaultPortName(for spec: VirtualGatewaySpec) -> String {
    let usesTLS = (spec.connectionHandlers ?? []).contains { $0.connectionOptions?.sslConfig != nil }
    return usesTLS ? "https" : "http"
  }

  private mutating func addHandlers(
    of virtualGateway: Resource<VirtualGatewaySpec>, to draft: inout ListenerDraft
  ) {
    for (handlerIndex, handler) in (virtualGateway.spec.connectionHandlers ?? []).enumerated() {
      let serverNames = (handler.connectionMatch?.serverNames ?? []).map(\.asciiLowercased).sorted()
      let key = serverNames.joined(separator: ",")
      if let tcp = handler.tcp {
        addPassthrough(
          tcp, of: handler, at: handlerIndex, serverNames: serverNames, key: key,
          virtualGateway: virtualGateway,
          to: &draft)
        continue
      }
      guard let http = handler.http else { continue }
      if draft.chains[key]?.chain.passthrough != nil {
        report(
          .error, on: virtualGateway.id, virtualGateway.source,
          ["spec", "connectionHandlers", .index(handlerIndex), "connectionMatch"],
          "these serverNames are already passed through by a tcp handler on port '\(draft.listener.portName)'"
        )
        continue
      }
      if draft.chains[key] == nil {
        draft.chainOrder.append(key)
        let sslPath: FieldPath = [
          "spec", "connectionHandlers", .index(handlerIndex), "connectionOptions", "sslConfig",
        ]
        let chain = ServerNameChain(
          serverNames: serverNames, sslConfig: handler.connectionOptions?.sslConfig,
          tls: handler.connectionOptions?.sslConfig.flatMap {
            tlsTermination($0, of: virtualGateway, at: sslPath)
          },
          httpsRedirect: handler.connectionOptions?.httpsRedirect ?? false, routeOptions: http.routeOptions,
          virtualHosts: [])
        var gatewayOptions: OptionLayer?
        if let routeOptions = http.routeOptions {
          var policy = Policy()
          policy.csrf = routeOptions.csrf
          policy.rateLimitSettings = routeOptions.rateLimit
          policy.extauthSettings = routeOptions.extauth
          policy.dlp = routeOptions.dlp
          let path: FieldPath = ["spec", "connectionHandlers", .index(handlerIndex), "http", "routeOptions"]
          gatewayOptions = OptionLayer(
            policy: policy,
            origin: OptionOrigin(
              level: .virtualGateway, resource: virtualGateway.id, route: nil,
              location: virtualGateway.source.location(of: path)),
            source: virtualGateway.source, path: path,
            spelling: ["rateLimitSettings": "rateLimit", "extauthSettings": "extauth"])
        }
        draft.chains[key] = ChainDraft(chain: chain, gatewayOptions: gatewayOptions)
      }
      for (configIndex, routeConfig) in (http.routeConfig ?? []).enumerated() {
        if let selector = routeConfig.virtualHostSelector {
          for host in index.snapshot.virtualHosts
          where selector.selects(
            namespace: host.namespace, labels: host.labels, ownerNamespace: virtualGateway.namespace)
          {
            status.record(host.id, in: \.selectedVirtualHosts, of: virtualGateway.id)
            status.record(virtualGateway.id, in: \.attachedVirtualGateways, of: host.id)
            draft.chains[key]!.add(host)
          }
          for broken in index.snapshot.broken
          where broken.id.kind == .virtualHost
            && selector.selects(
              namespace: broken.id.namespace, labels: broken.labels, ownerNamespace: virtualGateway.namespace)
          {
            status.record(broken.id, in: \.selectedVirtualHosts, of: virtualGateway.id)
            status.record(virtualGateway.id, in: \.attachedVirtualGateways, of: broken.id)
          }
        } else if let inline = routeConfig.virtualHost {
          let path: FieldPath = [
            "spec", "connectionHandlers", .index(handlerIndex), "http", "routeConfig", .index(configIndex),
            "virtualHost",
          ]
          draft.chains[key]!.add(inline: HostSource(inline: inline, in: virtualGateway, at: path))
        }
      }
    }
  }

  /// Builds the hosts of one server-name chain; a host claiming a domain an earlier host has is not served.
  private mutating func buildHosts(
    _ hosts: [HostSource], gatewayOptions: OptionLayer?, portName: String
  ) -> [VirtualHostConfig] {
    var claimed: [String: String] = [:]
    var built: [VirtualHostConfig] = []
    for host in hosts {
      guard host.hostErrors.isEmpty else { continue }
      let domains = (host.spec.domains ?? []).map(\.asciiLowercased)
      var conflict = false
      for (position, domain) in domains.enumerated() {
        if let other = claimed[domain] {
          report(
            .error, on: host.owner, host.source, host.specPath.appending("domains").appending(position),
            "domain '\(domain)' is already served by \(other) on port '\(portName)'; this virtual host is not served"
          )
          conflict = true
        }
      }
      guard !conflict else { continue }
      guard let config = buildHost(host, gatewayOptions: gatewayOptions, domains: domains) else { continue }
      for domain in domains { claimed[domain] = host.name }
      built.append(config)
    }
    return built
  }

  /// Expands one host's routes and reports shadowed and overlapping routes.
  mutating func buildHost(
    _ host: HostSource, gatewayOptions: OptionLayer?, domains: [String]
  ) -> VirtualHostConfig? {
    var state = HostState(
      source: host, invalidRoutePolicy: host.spec.options?.invalidRoutePolicy, gatewayOptions: gatewayOptions)
    var scope = DelegationScope()
    if let policy = host.spec.options?.trafficPolicy {
      let path = host.specPath.appending("options").appending("trafficPolicy")
      scope.layers.append(
        OptionLayer(
          policy: policy,
          origin: OptionOrigin(
            level: .virtualHost, resource: host.owner, route: nil, location: host.source.location(of: path)),
          source: host.source, path: path))
    }
    let owner = RouteOwner(
      id: host.owner, source: host.source, namespace: host.namespace,
      routesPath: host.specPath.appending("routes"),
      diagnostics: host.diagnostics, table: nil)
    var routes: [BuiltRoute] = []
    expand(host.spec.routes ?? [], of: owner, in: scope, host: &state, into: &routes)
    if state.rejected {
      report(
        .error, on: host.owner, host.source,
        host.specPath.appending("options").appending("invalidRoutePolicy"),
        "virtual host rejected: it has an invalid route and invalidRoutePolicy is rejectVirtualHost")
      return nil
    }
    reportOverlaps(in: routes, host: host)
    guard !routes.isEmpty else { return nil }
    return VirtualHostConfig(
      name: host.name, resource: host.owner, domains: domains, routes: routes.map(\.config))
  }

  private mutating func reportOverlaps(in routes: [BuiltRoute], host: HostSource) {
    for finding in OverlapDetector.findings(in: routes) {
      let route = routes[finding.route]
      let earlier = routes[finding.earlier]
      let place =
        "\(earlier.owner) route \(earlier.config.name) (\(earlier.source.location(of: earlier.path)))"
      if finding.isOverlap {
        report(
          .warning, on: route.owner, route.source, route.path,
          "overlap: \(earlier.owner) claims the same path on \(host.name) and comes first (\(earlier.source.location(of: earlier.path)))"
        )
        report(
          .warning, on: earlier.owner, earlier.source, earlier.path,
          "overlap: \(route.owner) claims the same path on \(host.name) and comes later")
      } else {
        report(
          .warning, on: route.owner, route.source, route.path,
          "shadowed: never matches on \(host.name) because \(place) comes first")
      }
    }
  }
}
