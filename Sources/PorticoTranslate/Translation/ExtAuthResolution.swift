import PorticoAPI
import PorticoRego

/// `options.extauth` resolved into what the data plane checks: the AuthConfig its `configRef` names (in the
/// namespace of the resource that sets the option unless it names another), with the API keys of the
/// Secrets it chooses and the server settings in effect. An AuthConfig that is missing or has errors is an
/// error on the resource that set the option, and the route is replaced (spec §11): a request is never let
/// through unchecked because its auth did not resolve.
extension GatewayTranslator {
  /// The Secret type API keys are kept in, as Gloo's.
  static let apiKeySecretType = "extauth.solo.io/apikey"

  /// The name of the step Gloo's `options.jwt` runs as: one no AuthConfig step can have.
  static let jwtOptionStepName = "jwt (options)"

  mutating func resolveExtAuth(_ options: EffectiveOptions) -> Result<ExtAuthConfig?, OptionProblems> {
    var tokenStep: ExtAuthConfig.Step?
    if let jwt = options.values.jwt, jwt.disable != true, let providers = jwt.providers {
      let check = jwtCheck(
        JWTAuth(
          providers: providers,
          validationPolicy: jwt.allowMissingOrFailedJwt == true ? "ALLOW_MISSING_OR_FAILED" : nil))
      tokenStep = .init(name: Self.jwtOptionStepName, check: .jwt(check))
    }
    var id: String
    var steps: [ExtAuthConfig.Step]
    var expression: BooleanExpression?
    if let extauth = options.values.extauth, extauth.disable != true, let ref = extauth.configRef,
      let origin = options.origins["extauth"]
    {
      switch resolveAuthConfig(ref, from: origin) {
      case .success(let resolved): (id, steps, expression) = resolved
      case .failure(let problems): return .failure(problems)
      }
    } else if tokenStep != nil, let origin = options.origins["jwt"] {
      // Only Gloo's JWT option: the step runs alone, under the name of the resource that set it.
      (id, steps, expression) = ("\(origin.resource.qualifiedName)/jwt", [], nil)
    } else if let extauth = options.values.extauth, extauth.disable != true, let custom = extauth.customAuth,
      let origin = options.origins["extauth"]
    {
      switch customAuthStep(custom, from: origin, settings: options) {
      case .success(let step):
        (id, steps, expression) = ("\(origin.resource.qualifiedName)/customAuth", [step], nil)
      case .failure(let problems): return .failure(problems)
      }
    } else {
      return .success(nil)
    }
    if let tokenStep {
      // Gloo runs its JWT filter before external auth: the token must pass whatever the AuthConfig says.
      steps.insert(tokenStep, at: 0)
      expression = expression.map { .and(.name(tokenStep.name), $0) }
    }
    let settings = options.values.extauthSettings
    if let settings, let settingsOrigin = options.origins["extauthSettings"] {
      // A route with `customAuth` calls the server these name; AuthConfigs run in the gateway.
      let callsServer = options.values.extauth?.customAuth != nil && options.values.extauth?.configRef == nil
      for (field, isSet) in [
        ("extauthzRef", settings.extauthzRef != nil && !callsServer),
        ("httpService", settings.httpService != nil && !callsServer),
        ("transportApiVersion", settings.transportApiVersion != nil),
        ("clearRouteCache", settings.clearRouteCache != nil), ("statPrefix", settings.statPrefix != nil),
      ] where isSet {
        status.add(
          Diagnostic(
            .warning, at: settingsOrigin.location, path: [.key(field)],
            "Portico runs AuthConfigs in the gateway; \(field) has no effect on them"),
          to: settingsOrigin.resource)
      }
    }
    return .success(
      ExtAuthConfig(
        id: id, steps: steps, expression: expression,
        failureModeAllow: settings?.failureModeAllow ?? false,
        statusOnError: Int(settings?.statusOnError ?? 403),
        userIdHeader: (settings?.userIdHeader ?? "x-user-id").lowercased(),
        requestTimeoutNanoseconds: settings?.requestTimeout?.nanoseconds ?? 2_000_000_000,
        requestBody: settings?.requestBody.map {
          .init(
            maxBytes: Int($0.maxRequestBytes ?? 4096), allowPartial: $0.allowPartialMessage ?? false,
            packAsBytes: $0.packAsBytes ?? false)
        }))
  }

  /// `customAuth`: the user's ext_authz server, named by the settings' `extauthzRef` (a StaticDestination,
  /// in the namespace of the resource that set the settings unless the ref names one), asked over gRPC with
  /// the route's `contextExtensions`. A server that cannot be named, or one to be asked over HTTP
  /// (`httpService`, not enforced), replaces the route.
  private mutating func customAuthStep(
    _ custom: RouteExtauth.CustomAuth, from origin: OptionOrigin, settings options: EffectiveOptions
  ) -> Result<ExtAuthConfig.Step, OptionProblems> {
    func refuse(_ message: String) -> Result<ExtAuthConfig.Step, OptionProblems> {
      let diagnostic = Diagnostic(.error, at: origin.location, path: ["extauth", "customAuth"], message)
      status.add(diagnostic, to: origin.resource)
      return .failure(OptionProblems(errors: [diagnostic]))
    }
    let settings = options.values.extauthSettings
    guard let ref = settings?.extauthzRef, let settingsOrigin = options.origins["extauthSettings"] else {
      return refuse(
        "customAuth needs extauthSettings.extauthzRef naming the StaticDestination of your ext_authz server; the route answers as an invalid route"
      )
    }
    guard settings?.httpService == nil else {
      return refuse(
        "customAuth over HTTP (extauthSettings.httpService) is not enforced by this version of Portico; the route answers as an invalid route"
      )
    }
    let id = ref.id(.staticDestination, defaultNamespace: settingsOrigin.resource.namespace)
    guard let server = index.staticDestinations[id], let endpoint = server.spec.endpoints?.first else {
      return refuse(
        "StaticDestination \(id.qualifiedName) (extauthSettings.extauthzRef) is not found or has no endpoints; the route answers as an invalid route"
      )
    }
    return .success(
      .init(
        name: "customAuth",
        check: .passThroughGRPC(
          .init(
            host: endpoint.address, port: Int(endpoint.port), failureModeAllow: false,
            contextExtensions: custom.contextExtensions ?? [:]))))
  }

  /// The AuthConfig `ref` names, resolved once per translation: its id, steps and expression. One that is
  /// missing or has errors is an error on the resource that set the option.
  private mutating func resolveAuthConfig(_ ref: ObjectRef, from origin: OptionOrigin) -> Result<
    (String, [ExtAuthConfig.Step], BooleanExpression?), OptionProblems
  > {
    let id = ref.id(.authConfig, defaultNamespace: origin.resource.namespace)
    resolveSteps(of: id)
    guard let config = index.authConfigs[id], !config.hasErrors, !unresolvedAuthConfigs.contains(id) else {
      let state = index.authConfigs[id] == nil ? "is not found" : "has errors"
      let diagnostic = Diagnostic(
        .error, at: origin.location, path: ["extauth", "configRef"],
        "AuthConfig \(id.qualifiedName) \(state); the routes that use it answer as invalid routes")
      status.add(diagnostic, to: origin.resource)
      return .failure(OptionProblems(errors: [diagnostic]))
    }
    return .success(
      (
        id.qualifiedName, authSteps[id] ?? [],
        config.spec.booleanExpr.flatMap { try? BooleanExpression(parsing: $0) }
      ))
  }

  /// The steps of the AuthConfig `id`, resolved once per translation (when it loaded without errors): kept
  /// in `authSteps`, and the AuthConfig marked unresolved when one of them does not resolve.
  mutating func resolveSteps(of id: ResourceID) {
    guard authSteps[id] == nil, let config = index.authConfigs[id], !config.hasErrors else { return }
    var resolved: [ExtAuthConfig.Step] = []
    for (position, step) in (config.spec.configs ?? []).enumerated() {
      if let made = authStep(step, position: position, of: config) { resolved.append(made) }
    }
    authSteps[id] = resolved
  }

  private mutating func authStep(
    _ step: AuthConfigSpec.Step, position: Int, of config: Resource<AuthConfigSpec>
  ) -> ExtAuthConfig.Step? {
    let name = step.name ?? "configs[\(position)]"
    if let keys = step.apiKeyAuth {
      return .init(name: name, check: .apiKey(apiKeyCheck(keys, position: position, of: config)))
    }
    if let basic = step.basicAuth {
      return .init(name: name, check: .basic(.init(realm: basic.realm, users: basic.apr?.users ?? [:])))
    }
    if let jwt = step.jwt { return .init(name: name, check: .jwt(jwtCheck(jwt))) }
    if let ldap = step.ldap, let address = LDAPAddress(ldap.address) {
      let maxSize = Int(ldap.pool?.maxSize ?? 5)
      return .init(
        name: name,
        check: .ldap(
          .init(
            uri: address.uri, userDnTemplate: ldap.userDnTemplate,
            membershipAttribute: ldap.membershipAttributeName ?? "memberOf",
            allowedGroups: ldap.allowedGroups ?? [], checksGroups: ldap.disableGroupChecking != true,
            poolMaxSize: maxSize, poolInitialSize: min(maxSize, Int(ldap.pool?.initialSize ?? 2)))))
    }
    if let grpc = step.passThroughAuth?.grpc, let address = GRPCAddress(grpc.address) {
      return .init(
        name: name,
        check: .passThroughGRPC(
          .init(
            host: address.host, port: address.port,
            failureModeAllow: step.passThroughAuth?.failureModeAllow ?? false)))
    }
    if let validation = step.oauth2?.accessTokenValidation {
      guard let check = accessTokenCheck(validation, position: position, of: config) else {
        unresolvedAuthConfigs.insert(config.id)
        return nil
      }
      return .init(name: name, check: .accessToken(check))
    }
    if let flow = step.oauth2?.oidcAuthorizationCode {
      guard let check = oidcCheck(flow, position: position, of: config) else {
        unresolvedAuthConfigs.insert(config.id)
        return nil
      }
      return .init(name: name, check: .oidc(check))
    }
    if let policy = step.opaAuth {
      guard let program = opaProgram(policy, position: position, of: config) else {
        unresolvedAuthConfigs.insert(config.id)
        return nil
      }
      return .init(name: name, check: .opa(.init(program: program)))
    }
    if let http = step.passThroughAuth?.http {
      let lowercased = { (names: [String]?) in (names ?? []).map { $0.lowercased() } }
      var allowed = ["authorization"]
      for name in lowercased(http.request?.allowedHeaders) where !allowed.contains(name) {
        allowed.append(name)
      }
      return .init(
        name: name,
        check: .passThrough(
          .init(
            url: http.url, allowedHeaders: allowed, headersToAdd: http.request?.headersToAdd ?? [:],
            upstreamHeaders: lowercased(http.response?.allowedUpstreamHeaders),
            upstreamHeadersToAppend: lowercased(http.response?.allowedUpstreamHeadersToAppend),
            clientHeadersOnDenied: lowercased(http.response?.allowedClientHeadersOnDenied),
            connectionTimeoutNanoseconds: http.connectionTimeout?.nanoseconds ?? 1_000_000_000,
            failureModeAllow: step.passThroughAuth?.failureModeAllow ?? false)))
    }
    return nil  // validation refused the AuthConfig already
  }

  /// The keys of the Secrets an `apiKeyAuth` step chooses, in the AuthConfig's namespace: by label, and by
  /// name. Secrets that hold no key, and keys held twice, are warnings on the AuthConfig.
  private mutating func apiKeyCheck(
    _ keys: APIKeyAuth, position: Int, of config: Resource<AuthConfigSpec>
  ) -> ExtAuthConfig.APIKeyCheck {
    let path: FieldPath = ["spec", "configs", .index(position), "apiKeyAuth"]
    func warn(_ field: String, _ message: String) {
      status.add(config.source.diagnostic(.warning, path.appending(field), message), to: config.id)
    }
    var chosen: [Resource<SecretData>] = []
    if let selector = keys.labelSelector {
      chosen += index.snapshot.secrets.filter { secret in
        secret.namespace == config.namespace && secret.spec.type == Self.apiKeySecretType
          && selector.allSatisfy { secret.labels[$0.key] == $0.value }
      }
    }
    for ref in keys.apiKeySecretRefs ?? [] {
      let id = ref.id(.secret, defaultNamespace: config.namespace)
      guard let secret = index.secrets[id] else {
        warn("apiKeySecretRefs", "Secret \(id.qualifiedName) is not found; its key lets no one in")
        continue
      }
      if !chosen.contains(where: { $0.id == secret.id }) { chosen.append(secret) }
    }
    var found: [ExtAuthConfig.APIKey] = []
    var digests: Set<[UInt8]> = []
    for secret in chosen.sorted(by: { $0.id < $1.id }) {
      guard let key = ExtAuthConfig.APIKey(identity: secret.name, secret: secret.spec) else {
        warn("apiKeySecretRefs", "Secret \(secret.id.qualifiedName) holds no api-key (or api-key-sha256)")
        continue
      }
      guard digests.insert(key.digest).inserted else {
        warn(
          "apiKeySecretRefs",
          "Secret \(secret.id.qualifiedName) holds a key another Secret holds; it is left out")
        continue
      }
      found.append(key)
    }
    let metadata = (keys.headersFromMetadata ?? [:]).merging(keys.headersFromMetadataEntry ?? [:]) { $1 }
    return ExtAuthConfig.APIKeyCheck(
      headerName: (keys.headerName ?? "api-key").lowercased(), keys: found,
      headers: metadata.sorted { $0.key < $1.key }.map {
        .init(header: $0.key.lowercased(), field: $0.value.name, required: $0.value.required ?? false)
      })
  }

  /// An `accessTokenValidation` step with the introspection client's secret read (`client-secret`). Nil, with
  /// an error on the AuthConfig, when that Secret is missing or holds none.
  private mutating func accessTokenCheck(
    _ validation: AccessTokenValidation, position: Int, of config: Resource<AuthConfigSpec>
  ) -> ExtAuthConfig.AccessTokenCheck? {
    let path: FieldPath = ["spec", "configs", .index(position), "oauth2", "accessTokenValidation"]
    let way: ExtAuthConfig.AccessTokenCheck.Validation
    if let jwt = validation.jwt {
      way = .jwt(
        localKeys: jwt.localJwks?.inlineString,
        remoteKeys: jwt.remoteJwks.map {
          .init(
            url: $0.url, cacheSeconds: ($0.refreshInterval?.nanoseconds ?? 300_000_000_000) / 1_000_000_000)
        }, issuer: jwt.issuer)
    } else {
      let introspection = validation.introspection
      var secret: String?
      if let ref = introspection?.clientSecretRef, introspection?.disableClientSecret != true {
        let id = ref.id(.secret, defaultNamespace: config.id.namespace)
        guard let value = index.secrets[id]?.spec.value(for: "client-secret") else {
          report(
            .error, on: config.id, config.source,
            path.appending("introspection").appending("clientSecretRef"),
            "Secret \(id.qualifiedName) is not found or has no client-secret; the routes that use this AuthConfig answer as invalid routes"
          )
          return nil
        }
        secret = String(decoding: value, as: UTF8.self)
      }
      way = .introspection(
        url: validation.introspectionUrl ?? introspection?.introspectionUrl ?? "",
        clientID: introspection?.clientId, clientSecret: secret)
    }
    return .init(
      validation: way, requiredScopes: validation.requiredScopes?.scope ?? [],
      cacheSeconds: (validation.cacheTimeout?.nanoseconds ?? 600_000_000_000) / 1_000_000_000,
      userIDAttribute: validation.introspection?.userIdAttributeName ?? "sub")
  }

  /// An `oidcAuthorizationCode` step with its Secrets read: the client secret (`client-secret`) and the
  /// session keys (`key`, then `previous-key`). Nil, with an error on the AuthConfig, when a Secret named is
  /// missing or holds no usable value.
  private mutating func oidcCheck(
    _ flow: OIDCAuthorizationCode, position: Int, of config: Resource<AuthConfigSpec>
  ) -> ExtAuthConfig.OIDCCheck? {
    let path: FieldPath = ["spec", "configs", .index(position), "oauth2", "oidcAuthorizationCode"]
    func secret(_ ref: ObjectRef, at field: FieldPath) -> Resource<SecretData>? {
      let id = ref.id(.secret, defaultNamespace: config.id.namespace)
      guard let found = index.secrets[id] else {
        report(
          .error, on: config.id, config.source, field,
          "Secret \(id.qualifiedName) is not found; the routes that use this AuthConfig answer as invalid routes"
        )
        return nil
      }
      return found
    }
    var clientSecret: String?
    if let ref = flow.clientSecretRef {
      guard let found = secret(ref, at: path.appending("clientSecretRef")) else { return nil }
      guard let value = found.spec.value(for: "client-secret") else {
        report(
          .error, on: config.id, config.source, path.appending("clientSecretRef"),
          "Secret \(found.id.qualifiedName) has no client-secret")
        return nil
      }
      clientSecret = String(decoding: value, as: UTF8.self)
    }
    var keys: [[UInt8]] = []
    let keyField = path.appending("session").appending("cipherConfig").appending("keyRef")
    if let ref = flow.session?.cipherConfig?.keyRef {
      guard let found = secret(ref, at: keyField) else { return nil }
      keys = ["key", "previous-key"].compactMap { found.spec.value(for: $0) }
      guard let current = found.spec.value(for: "key"), current.count == 32,
        keys.allSatisfy({ $0.count == 32 })
      else {
        report(
          .error, on: config.id, config.source, keyField,
          "Secret \(found.id.qualifiedName) must hold a 32-byte key (and, after a rotation, a 32-byte previous-key)"
        )
        return nil
      }
    } else if flow.session?.redis == nil {
      report(
        .warning, on: config.id, config.source, path.appending("session"),
        "no session.cipherConfig.keyRef: each gateway process seals sessions with a key of its own, so sessions end when it restarts and are not shared between replicas"
      )
    }
    let options = flow.session?.cookieOptions
    let redis = flow.session?.redis
    let prefix = flow.session?.cookie?.keyPrefix ?? ""
    let sameSite: String? =
      switch options?.sameSite ?? "LaxMode" {
      case "StrictMode": "Strict"
      case "NoneMode": "None"
      case "DefaultMode": nil
      default: "Lax"
      }
    let trimmed = { (url: String) in url.hasSuffix("/") ? String(url.dropLast()) : url }
    var scopes = ["openid"]
    for scope in flow.scopes ?? [] where !scopes.contains(scope) { scopes.append(scope) }
    return ExtAuthConfig.OIDCCheck(
      appURL: trimmed(flow.appUrl), callbackPath: flow.callbackPath ?? "/oauth-gloo-callback",
      clientID: flow.clientId, clientSecret: clientSecret, issuerURL: trimmed(flow.issuerUrl), scopes: scopes,
      authorizationParameters: flow.authEndpointQueryParams ?? [:],
      tokenParameters: flow.tokenEndpointQueryParams ?? [:], logoutPath: flow.logoutPath,
      afterLogoutURL: flow.afterLogoutUrl, sessionKeys: keys,
      sessionStore: redis.map {
        .redis(
          address: RedisHostPort($0.options.host)?.address ?? $0.options.host,
          keyPrefix: $0.keyPrefix ?? "portico-session:")
      } ?? .cookie,
      cookie: .init(
        sessionName: redis?.cookieName ?? (prefix + "portico-session"), prefix: prefix,
        maxAgeSeconds: options?.maxAge.map { $0 == 0 ? nil : Int($0) } ?? 30 * 24 * 3600,
        secure: options?.notSecure != true, httpOnly: options?.httpOnly ?? true, path: options?.path ?? "/",
        domain: options?.domain ?? redis?.targetDomain ?? flow.session?.cookie?.targetDomain,
        sameSite: sameSite),
      idTokenHeader: flow.headers?.idTokenHeader?.lowercased(),
      accessTokenHeader: flow.headers?.accessTokenHeader?.lowercased(),
      bearerAccessToken: flow.headers?.useBearerSchemaForAuthorization ?? false,
      allowsRefreshing: redis?.allowRefreshing ?? flow.session?.cookie?.allowRefreshing ?? true)
  }

  /// An `opaAuth` policy: the entries of the ConfigMaps it names (each entry a module, named
  /// `namespace/name/key`), compiled once to report what does not compile. Nil, with an error on the
  /// AuthConfig (where the module is, when rego-cpp says), when a ConfigMap is missing or the policy does not
  /// compile.
  private mutating func opaProgram(_ policy: OPAAuth, position: Int, of config: Resource<AuthConfigSpec>)
    -> RegoProgram?
  {
    let path: FieldPath = ["spec", "configs", .index(position), "opaAuth"]
    var modules: [RegoProgram.Module] = []
    var places: [String: (Resource<[String: String]>, String)] = [:]
    for (number, ref) in (policy.modules ?? []).enumerated() {
      let id = ref.id(.configMap, defaultNamespace: config.id.namespace)
      guard let configMap = index.configMaps[id] else {
        report(
          .error, on: config.id, config.source, path.appending("modules").appending(number),
          "ConfigMap \(id.qualifiedName) is not found; the routes that use this AuthConfig answer as invalid routes"
        )
        return nil
      }
      for (key, source) in configMap.spec.sorted(by: { $0.key < $1.key }) {
        let name = "\(id.qualifiedName)/\(key)"
        modules.append(.init(name: name, source: source))
        places[name] = (configMap, key)
      }
    }
    let program = RegoProgram(modules: modules, query: policy.query)
    guard let problem = program.check() else { return program }
    // Where the module is: the ConfigMap entry's line, with the line inside the module in the message.
    if let module = problem.module, let (configMap, key) = places[module] {
      report(
        .error, on: config.id, configMap.source, ["data", .key(key)],
        "opaAuth policy of AuthConfig \(config.id.qualifiedName) does not compile: \(problem); the routes that use it answer as invalid routes"
      )
    } else {
      report(
        .error, on: config.id, config.source, path,
        "the policy does not compile: \(problem); the routes that use this AuthConfig answer as invalid routes"
      )
    }
    return nil
  }
}

extension GatewayTranslator {
  /// A `jwt` step's providers in name order, with Gloo's defaults: the token from `Authorization: Bearer`
  /// or the `access_token` query parameter, removed before the request goes upstream, 60 s of clock skew.
  func jwtCheck(_ jwt: JWTAuth) -> ExtAuthConfig.JWTCheck {
    let providers = jwt.providers.sorted { $0.key < $1.key }.map { name, provider in
      var sources: [ExtAuthConfig.JWTCheck.TokenSource] = []
      if let source = provider.tokenSource {
        sources += (source.headers ?? []).map { .header($0.header.lowercased(), prefix: $0.prefix ?? "") }
        sources += (source.queryParams ?? []).map { .query($0) }
      } else {
        sources = [.header("authorization", prefix: "Bearer "), .query("access_token")]
      }
      return ExtAuthConfig.JWTCheck.Provider(
        name: name, keys: provider.jwks.local?.key ?? "",
        remoteKeys: provider.jwks.remote.map {
          .init(
            url: $0.url,
            cacheSeconds: max(1, ($0.cacheDuration?.nanoseconds ?? 300_000_000_000) / 1_000_000_000))
        },
        issuer: provider.issuer,
        audiences: provider.audiences ?? [], sources: sources, keepToken: provider.keepToken ?? false,
        claimsToHeaders: (provider.claimsToHeaders ?? []).map {
          .init(claim: $0.claim, header: $0.header.lowercased(), append: $0.append ?? false)
        },
        clockSkewSeconds: Int(provider.clockSkewSeconds ?? 60))
    }
    return ExtAuthConfig.JWTCheck(
      providers: providers,
      policy: jwt.validationPolicy.flatMap(ExtAuthConfig.JWTCheck.Policy.init(rawValue:)) ?? .requireValid)
  }
}

/// Why a route option does not resolve; the route is replaced.
struct OptionProblems: Error {
  let errors: [Diagnostic]
}

extension GatewayTranslator {
  /// An error on the field at `path` of `option`, reported on the resource that set the option.
  mutating func optionError(_ option: String, _ origin: OptionOrigin, at path: FieldPath, _ message: String)
    -> Diagnostic
  {
    let diagnostic = Diagnostic(
      .error, at: origin.location, path: FieldPath([.key(option)]).appending(path), message)
    status.add(diagnostic, to: origin.resource)
    return diagnostic
  }
}
