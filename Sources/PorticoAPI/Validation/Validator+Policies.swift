extension Validator {
  mutating func check(policy: Policy, at path: FieldPath, isVirtualHostLevel: Bool) {
    check(policy.requestTimeout, at: path.appending("requestTimeout"))
    if let limit = policy.maxRequestBodyBytes, limit < 0 {
      error(path.appending("maxRequestBodyBytes"), "must not be negative (0 turns the limit off)")
    }
    if let retries = policy.retries {
      let at = path.appending("retries")
      if let attempts = retries.attempts, attempts < 0 {
        error(at.appending("attempts"), "must not be negative")
      }
      check(retries.perTryTimeout, at: at.appending("perTryTimeout"), minimum: 1_000_000)
    }
    if let fault = policy.faultInjection {
      let at = path.appending("faultInjection")
      if fault.fixedDelay == nil, fault.abort == nil { error(at, "give fixedDelay, abort, or both") }
      check(fault.fixedDelay, at: at.appending("fixedDelay"))
      if let status = fault.abort?.httpStatus, !(200...599).contains(status) {
        error(at.appending("abort").appending("httpStatus"), "status must be between 200 and 599")
      }
      check(percentage: fault.percentage, at: at.appending("percentage"))
    }
    if let cors = policy.corsPolicy {
      let at = path.appending("corsPolicy")
      for (index, origin) in (cors.allowOrigins ?? []).enumerated() {
        check(origin, at: at.appending("allowOrigins").appending(index))
      }
      check(cors.maxAge, at: at.appending("maxAge"))
    }
    if let headers = policy.headerManipulation {
      check(headers: headers, at: path.appending("headerManipulation"))
    }
    if let mirror = policy.mirror {
      let at = path.appending("mirror")
      let count = [mirror.kubeService != nil, mirror.staticDestination != nil].filter { $0 }.count
      requireOne(count, of: ["kubeService", "staticDestination"], at: at)
      check(percentage: mirror.percentage, at: at.appending("percentage"))
    }
    if !isVirtualHostLevel {
      for (field, isSet) in [
        ("trafficShift", policy.trafficShift != nil), ("outlierDetection", policy.outlierDetection != nil),
      ]
      where isSet {
        warning(
          path.appending(field),
          "\(field) is honoured on virtual hosts and TrafficPolicies only, not per route")
      }
    }
    for (index, destination) in (policy.trafficShift?.destinations ?? []).enumerated() {
      check(
        destination: destination,
        at: path.appending("trafficShift").appending("destinations").appending(index))
    }
    if let outlier = policy.outlierDetection {
      let at = path.appending("outlierDetection")
      check(outlier.interval, at: at.appending("interval"))
      check(outlier.baseEjectionTime, at: at.appending("baseEjectionTime"))
      if let percent = outlier.maxEjectionPercent, percent > 100 {
        error(at.appending("maxEjectionPercent"), "must be between 0 and 100")
      }
    }
    if let pool = policy.connectionPoolSettings {
      let at = path.appending("connectionPoolSettings")
      check(pool.tcp?.connectTimeout, at: at.appending("tcp").appending("connectTimeout"))
      check(pool.http?.idleTimeout, at: at.appending("http").appending("idleTimeout"))
    }
    if let csrf = policy.csrf { check(csrf: csrf, at: path.appending("csrf")) }
    if let limit = policy.rateLimit { check(routeRateLimit: limit, at: path.appending("rateLimit")) }
    check(
      policy.rateLimitSettings?.requestTimeout,
      at: path.appending("rateLimitSettings").appending("requestTimeout"))
    check(
      policy.extauthSettings?.requestTimeout,
      at: path.appending("extauthSettings").appending("requestTimeout"))
    if let extauth = policy.extauth {
      let count = [extauth.disable == true, extauth.configRef != nil, extauth.customAuth != nil].filter { $0 }
        .count
      if count > 1 { error(path.appending("extauth"), "give at most one of disable, configRef, customAuth") }
    }
    if let waf = policy.waf { check(waf: waf, at: path.appending("waf")) }
    if let transformations = policy.transformations {
      check(transformations: transformations, at: path.appending("transformations"))
    }
    if let dlp = policy.dlp {
      check(dlp: dlp, at: path.appending("dlp"))
      if dlp.dlpRules != nil {
        error(
          path.appending("dlp").appending("dlpRules"),
          "are a VirtualGateway's (routeOptions.dlp); give actions here")
      }
    }
    if let jwt = policy.jwt {
      let at = path.appending("jwt")
      if jwt.disable == true, jwt.providers != nil {
        error(at, "give providers or disable: true, not both")
      } else if jwt.disable != true {
        if let providers = jwt.providers {
          check(jwt: JWTAuth(providers: providers), at: at)
        } else {
          error(at, "give providers (or disable: true to turn an inherited check off)")
        }
      }
    }
  }

  mutating func check(csrf: CsrfPolicy, at path: FieldPath) {
    check(percentage: csrf.percentage, at: path.appending("percentage"))
    for (index, origin) in (csrf.additionalOrigins ?? []).enumerated() {
      check(origin, at: path.appending("additionalOrigins").appending(index))
    }
  }

  mutating func check(headers: HeaderManipulation, at path: FieldPath) {
    let names: [(String, [String])] = [
      ("appendRequestHeaders", (headers.appendRequestHeaders ?? [:]).keys.sorted()),
      ("removeRequestHeaders", headers.removeRequestHeaders ?? []),
      ("appendResponseHeaders", (headers.appendResponseHeaders ?? [:]).keys.sorted()),
      ("removeResponseHeaders", headers.removeResponseHeaders ?? []),
    ]
    for (field, list) in names {
      for name in list where !HTTPToken.isValid(name) {
        error(path.appending(field), "invalid header name '\(name)'")
      }
    }
    let values =
      (headers.appendRequestHeaders ?? [:]).map { $0 } + (headers.appendResponseHeaders ?? [:]).map { $0 }
    for (name, value) in values.sorted(by: { $0.key < $1.key }) where !HTTPFieldValue.isValid(value) {
      error(path, "header '\(name)' has a value with control characters (CR, LF or NUL are not allowed)")
    }
    for (field, appended) in [
      ("appendRequestHeaders", headers.appendRequestHeaders),
      ("appendResponseHeaders", headers.appendResponseHeaders),
    ] {
      for (name, value) in (appended ?? [:]).sorted(by: { $0.key < $1.key }) {
        do {
          _ = try HeaderValueTemplate(value)
        } catch {
          self.error(path.appending(field).appending(name), "\(error)")
        }
      }
    }
  }

  mutating func check(virtualGateway spec: VirtualGatewaySpec) {
    let path: FieldPath = ["spec"]
    if spec.options?.perConnectionBufferLimitBytes != nil {
      error(
        path.appending("options").appending("perConnectionBufferLimitBytes"),
        "not implemented by Portico yet (backpressure holds reads instead of buffering); remove it")
    }
    if spec.ingressGatewaySelectors?.isEmpty ?? true {
      warning(
        path.appending("ingressGatewaySelectors"),
        "no ingressGatewaySelectors: this VirtualGateway selects no gateway")
    }
    let handlers = spec.connectionHandlers ?? []
    if handlers.isEmpty {
      error(path.appending("connectionHandlers"), "give at least one connection handler")
    }
    for (index, handler) in handlers.enumerated() {
      let at = path.appending("connectionHandlers").appending(index)
      let serverNames = handler.connectionMatch?.serverNames ?? []
      if handlers.count > 1, serverNames.isEmpty {
        error(
          at.appending("connectionMatch"),
          "serverNames are required when there is more than one connection handler")
      }
      for (nameIndex, name) in serverNames.enumerated() {
        if let problem = DomainPattern.problem(withServerName: name) {
          error(at.appending("connectionMatch").appending("serverNames").appending(nameIndex), problem)
        }
      }
      requireOne([handler.http != nil, handler.tcp != nil].filter { $0 }.count, of: ["http", "tcp"], at: at)
      if let options = handler.connectionOptions {
        check(connectionOptions: options, at: at.appending("connectionOptions"))
      }
      for (configIndex, config) in (handler.http?.routeConfig ?? []).enumerated() {
        let configPath = at.appending("http").appending("routeConfig").appending(configIndex)
        let count = [config.virtualHostSelector != nil, config.virtualHost != nil].filter { $0 }.count
        requireOne(count, of: ["virtualHostSelector", "virtualHost"], at: configPath)
        check(selector: config.virtualHostSelector, at: configPath.appending("virtualHostSelector"))
        if let inline = config.virtualHost {
          check(virtualHost: inline, at: configPath.appending("virtualHost"))
        }
      }
      if let tcp = handler.tcp { check(tcp: tcp, sslConfig: handler.connectionOptions?.sslConfig, at: at) }
      if handler.http != nil, handler.connectionOptions?.sslConfig?.tlsMode == .passthrough {
        error(
          at.appending("connectionOptions").appending("sslConfig").appending("tlsMode"),
          "PASSTHROUGH hands the TLS connection on unterminated: it needs a tcp handler, not http")
      }
      if let csrf = handler.http?.routeOptions?.csrf {
        check(csrf: csrf, at: at.appending("http").appending("routeOptions").appending("csrf"))
      }
      if let dlp = handler.http?.routeOptions?.dlp {
        let dlpPath = at.appending("http").appending("routeOptions").appending("dlp")
        check(dlp: dlp, at: dlpPath)
        if dlp.actions != nil {
          error(dlpPath.appending("actions"), "are a route's or virtual host's; give dlpRules here")
        }
      }
    }
  }

  mutating func check(tcp: TCPRoutes, sslConfig: SSLConfig?, at path: FieldPath) {
    let at = path.appending("tcp")
    let hosts = tcp.tcpHosts ?? []
    if hosts.isEmpty { error(at.appending("tcpHosts"), "give at least one tcpHost") }
    for (index, host) in hosts.enumerated() {
      let hostPath = at.appending("tcpHosts").appending(index).appending("destination")
      guard let destination = host.destination else {
        error(hostPath, "a tcpHost needs a destination")
        continue
      }
      requireOne(destination.kindCount, of: WeightedDestination.kindNames, at: hostPath)
    }
    if let settings = tcp.options?.tcpProxySettings {
      check(
        settings.idleTimeout,
        at: at.appending("options").appending("tcpProxySettings").appending("idleTimeout"))
    }
    if sslConfig?.tlsMode != .passthrough {
      warning(
        at,
        "Portico serves tcp handlers with tlsMode PASSTHROUGH only (TLS chosen by SNI, passed on unterminated); this handler is not served"
      )
    }
  }

  mutating func check(connectionOptions options: ConnectionHandler.ConnectionOptions, at path: FieldPath) {
    // Serving without what these ask for would differ from what the manifest says: not served instead.
    if options.strictFilterManagement == true {
      error(
        path.appending("strictFilterManagement"),
        "not implemented by Portico yet (filters are installed as the configuration needs them); remove it")
    }
    if options.enableProxyProtocol == true {
      error(path.appending("enableProxyProtocol"), "the PROXY protocol is not implemented by Portico yet")
    }
    guard let ssl = options.sslConfig else { return }
    let at = path.appending("sslConfig")
    if options.httpsRedirect == true { error(path, "give at most one of sslConfig, httpsRedirect") }
    if ssl.tlsMode == nil {
      error(at.appending("tlsMode"), "tlsMode must be given explicitly (SIMPLE, MUTUAL, PASSTHROUGH, ...)")
    }
    let sources = [ssl.secretName != nil, ssl.sslFiles != nil].filter { $0 }.count
    if ssl.tlsMode != .passthrough, ssl.tlsMode != .autoPassthrough {
      requireOne(sources, of: ["secretName", "sslFiles"], at: at)
    }
    if ssl.verifySubjectAltName?.isEmpty == false, ssl.tlsMode != .mutual {
      error(at.appending("verifySubjectAltName"), "verifySubjectAltName needs tlsMode MUTUAL")
    }
  }

  mutating func check(trafficPolicy spec: TrafficPolicySpec) {
    if let policy = spec.policy { check(policy: policy, at: ["spec", "policy"], isVirtualHostLevel: true) }
    for (index, selector) in (spec.routeSelector ?? []).enumerated() {
      let at = FieldPath(["spec", "routeSelector"]).appending(index)
      check(selector: selector.virtualHostSelector, at: at.appending("virtualHostSelector"))
      check(selector: selector.routeTableSelector, at: at.appending("routeTableSelector"))
    }
    if spec.routeSelector == nil {
      warning(["spec"], "no routeSelector: this TrafficPolicy applies to no gateway route")
    }
  }

  mutating func check(staticDestination spec: StaticDestinationSpec) {
    let endpoints = spec.endpoints ?? []
    if endpoints.isEmpty { error(["spec", "endpoints"], "a StaticDestination needs at least one endpoint") }
    for (index, endpoint) in endpoints.enumerated() {
      let at = FieldPath(["spec", "endpoints"]).appending(index)
      if endpoint.address.isEmpty { error(at.appending("address"), "address must not be empty") }
      if endpoint.port == 0 { error(at.appending("port"), "port must be between 1 and 65535") }
    }
    check(spec.dns?.refresh, at: ["spec", "dns", "refresh"], minimum: 1_000_000)
  }

  mutating func check(service spec: ServiceSpec) {
    let ports = spec.ports ?? []
    if ports.count > 1, ports.contains(where: { $0.name == nil }) {
      error(["spec", "ports"], "every port needs a name when a Service has more than one")
    }
  }
}

extension Validator {
  /// The shape of `waf`; whether its rules compile is checked where they are compiled (translation).
  mutating func check(waf: WAFPolicy, at path: FieldPath) {
    if waf.disabled == true { return }
    if let crs = waf.coreRuleSet, crs.customSettingsString != nil, crs.customSettingsFile != nil {
      error(path.appending("coreRuleSet"), "give customSettingsString or customSettingsFile, not both")
    }
    if let settings = waf.coreRuleSet?.customSettingsString, !settings.contains("crs_setup_version") {
      warning(
        path.appending("coreRuleSet").appending("customSettingsString"),
        "the Core Rule Set refuses every request (500, rule 901001) unless these settings set "
          + "tx.crs_setup_version, as its crs-setup.conf does")
    }
    for (index, set) in (waf.ruleSets ?? []).enumerated()
    where set.ruleStr == nil && (set.files ?? []).isEmpty && set.directory == nil {
      error(path.appending("ruleSets").appending(index), "give ruleStr, files or directory")
    }
    if waf.coreRuleSet == nil, (waf.ruleSets ?? []).isEmpty {
      error(path, "give coreRuleSet, ruleSets, or disabled: true")
    }
    if let audit = waf.auditLogging {
      if let action = audit.action, !WAFAuditLogging.actions.contains(action) {
        error(
          path.appending("auditLogging").appending("action"),
          "must be one of \(WAFAuditLogging.actions.joined(separator: ", "))")
      }
      if audit.location != nil {
        error(
          path.appending("auditLogging").appending("location"),
          "is not supported: audit entries go to the file the gateway's --waf-audit-log names")
      }
    }
  }
}

extension Validator {
  mutating func check(dlp: DLPPolicy, at path: FieldPath) {
    if let target = dlp.enabledFor, !DLPPolicy.targets.contains(target) {
      error(path.appending("enabledFor"), "must be one of \(DLPPolicy.targets.joined(separator: ", "))")
    }
    if let mode = dlp.unreadableBodies, !DLPPolicy.unreadableModes.contains(mode) {
      error(
        path.appending("unreadableBodies"),
        "must be one of \(DLPPolicy.unreadableModes.joined(separator: ", "))")
    }
    for (index, action) in (dlp.actions ?? []).enumerated() {
      check(dlpAction: action, at: path.appending("actions").appending(index))
    }
    for (index, rule) in (dlp.dlpRules ?? []).enumerated() {
      for (position, action) in (rule.actions ?? []).enumerated() {
        check(
          dlpAction: action,
          at: path.appending("dlpRules").appending(index).appending("actions").appending(position))
      }
    }
  }

  mutating func check(dlpAction action: DLPAction, at path: FieldPath) {
    let type = action.actionType ?? "CUSTOM"
    guard DLPAction.types.contains(type) else {
      return error(path.appending("actionType"), "must be one of \(DLPAction.types.joined(separator: ", "))")
    }
    guard type == "CUSTOM" else {
      if action.customAction != nil { error(path.appending("customAction"), "is for actionType CUSTOM only") }
      return
    }
    guard let custom = action.customAction else {
      return error(path.appending("customAction"), "give customAction (regex, maskChar, percent)")
    }
    let at = path.appending("customAction")
    let patterns = custom.regex ?? []
    if patterns.isEmpty { error(at.appending("regex"), "give at least one regex") }
    for (index, pattern) in patterns.enumerated() {
      compile(pattern, at: at.appending("regex").appending(index))
    }
    if let mask = custom.maskChar, mask.count != 1 {
      error(at.appending("maskChar"), "must be one character")
    }
    if let percent = custom.percentValue {
      if !(0...100).contains(percent) { error(at.appending("percent"), "must be between 0 and 100") }
    } else {
      error(at.appending("percent"), "must be a number, or {value: N}")
    }
  }
}
