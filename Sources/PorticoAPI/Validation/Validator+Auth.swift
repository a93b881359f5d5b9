import Foundation

/// AuthConfigs: one mode per step, names `booleanExpr` can use, and each mode's required fields. A mode
/// Portico does not run yet is an error on its field: the routes that use the config answer as invalid
/// routes instead of letting traffic through unchecked.
extension Validator {
  /// The modes the gateway enforces.
  static let enforcedAuthModes: Set<String> = [
    "apiKeyAuth", "basicAuth", "jwt", "ldap", "oauth2", "opaAuth", "passThroughAuth",
  ]

  mutating func check(authConfig spec: AuthConfigSpec) {
    let steps = spec.configs ?? []
    if steps.isEmpty {
      error(
        ["spec", "configs"], "an AuthConfig needs at least one step (an empty one would let everyone in)")
    }
    var names: [String: Int] = [:]
    for (index, step) in steps.enumerated() {
      let path: FieldPath = ["spec", "configs", .index(index)]
      if let name = step.name {
        if name.isEmpty || !name.allSatisfy(BooleanExpression.isNameCharacter) {
          error(path.appending("name"), "'\(name)' is not a step name (letters, digits, '_', '-', '.')")
        } else if let first = names[name] {
          error(path.appending("name"), "'\(name)' already names step \(first)")
        } else {
          names[name] = index
        }
      }
      let modes = step.modes
      guard modes.count == 1, let mode = modes.first else {
        error(
          path,
          "give exactly one of apiKeyAuth, basicAuth, jwt, oauth2, opaAuth, ldap, passThroughAuth, pluginAuth"
        )
        continue
      }
      guard Self.enforcedAuthModes.contains(mode) else {
        error(
          path.appending(mode),
          "\(mode) is not enforced by this version of Portico; the routes that use this AuthConfig answer as invalid routes instead of being served without it"
        )
        continue
      }
      if let keys = step.apiKeyAuth { check(apiKeyAuth: keys, at: path.appending("apiKeyAuth")) }
      if let basic = step.basicAuth { check(basicAuth: basic, at: path.appending("basicAuth")) }
      if let jwt = step.jwt { check(jwt: jwt, at: path.appending("jwt")) }
      if let ldap = step.ldap { check(ldap: ldap, at: path.appending("ldap")) }
      if let login = step.oauth2 { check(oauth2: login, at: path.appending("oauth2")) }
      if let policy = step.opaAuth { check(opaAuth: policy, at: path.appending("opaAuth")) }
      if let service = step.passThroughAuth {
        check(passThroughAuth: service, at: path.appending("passThroughAuth"))
      }
    }
    guard let text = spec.booleanExpr else { return }
    do {
      let expression = try BooleanExpression(parsing: text)
      for name in expression.names.sorted() where names[name] == nil {
        error(["spec", "booleanExpr"], "'\(name)' names no step of this AuthConfig")
      }
    } catch {
      self.error(["spec", "booleanExpr"], "cannot read '\(text)': \(error)")
    }
  }

  private mutating func check(apiKeyAuth keys: APIKeyAuth, at path: FieldPath) {
    if keys.labelSelector == nil, (keys.apiKeySecretRefs ?? []).isEmpty {
      error(path, "give labelSelector or apiKeySecretRefs: which Secrets hold the keys")
    }
    if let header = keys.headerName, !HTTPToken.isValid(header) {
      error(path.appending("headerName"), "invalid header name '\(header)'")
    }
    for field in ["headersFromMetadata", "headersFromMetadataEntry"] {
      let headers = field == "headersFromMetadata" ? keys.headersFromMetadata : keys.headersFromMetadataEntry
      for (header, entry) in (headers ?? [:]).sorted(by: { $0.key < $1.key }) {
        if !HTTPToken.isValid(header) { error(path.appending(field), "invalid header name '\(header)'") }
        if entry.name.isEmpty {
          error(path.appending(field).appending(header).appending("name"), "must not be empty")
        }
      }
    }
  }

  private mutating func check(basicAuth basic: BasicAuth, at path: FieldPath) {
    guard let apr = basic.apr else {
      error(path.appending("apr"), "missing required field 'apr' (users and their APR1 hashes)")
      return
    }
    if apr.users.isEmpty {
      warning(path.appending("apr").appending("users"), "no users: every request is refused")
    }
    for (user, hash) in apr.users.sorted(by: { $0.key < $1.key }) {
      let at = path.appending("apr").appending("users").appending(user)
      if user.isEmpty || user.contains(":") { error(at, "a user name must not be empty or contain ':'") }
      if hash.isBCrypt {
        if let problem = Self.bcryptProblem(hash.hashedPassword) {
          error(at.appending("hashedPassword"), problem)
        }
        continue
      }
      guard let salt = hash.salt else {
        error(at.appending("salt"), "give the APR1 salt, or a whole bcrypt hash ($2y$...) in hashedPassword")
        continue
      }
      if salt.isEmpty || salt.count > 8 || salt.contains("$") {
        error(at.appending("salt"), "an APR1 salt has 1 to 8 characters and no '$'")
      }
      if hash.hashedPassword.count != 22 {
        error(
          at.appending("hashedPassword"), "an APR1 hash has 22 characters (the part after the salt's '$')")
      }
    }
  }

  private mutating func check(ldap: LDAPAuth, at path: FieldPath) {
    if LDAPAddress(ldap.address) == nil {
      error(path.appending("address"), "'\(ldap.address)' is not host:port or an ldap:// or ldaps:// URL")
    }
    if ldap.userDnTemplate.components(separatedBy: "%s").count != 2 {
      error(path.appending("userDnTemplate"), "must hold '%s' exactly once, where the user name goes")
    }
    if ldap.disableGroupChecking != true, (ldap.allowedGroups ?? []).isEmpty {
      error(
        path.appending("allowedGroups"),
        "give the groups whose members pass (or disableGroupChecking: true to let every user who binds in)")
    }
    let groups = ldap.allowedGroups ?? []
    if groups.count > 1, groups.contains(where: { !$0.contains(",") }) {
      warning(
        path.appending("allowedGroups"),
        "\(groups.map { "'\($0)'" }.joined(separator: ", ")) look like one DN split at its commas; quote each DN in a [...] list"
      )
    }
    if let pool = ldap.pool, let size = pool.maxSize, size == 0 {
      error(path.appending("pool").appending("maxSize"), "must be at least 1")
    }
  }

  private mutating func check(oauth2 login: OAuth2Auth, at path: FieldPath) {
    func unenforced(_ field: FieldPath, _ name: String) {
      error(
        field,
        "\(name) is not enforced by this version of Portico; the routes that use this AuthConfig answer as invalid routes"
      )
    }
    if login.oauth2 != nil { unenforced(path.appending("oauth2"), "oauth2.oauth2") }
    if login.oidcAuthorizationCode != nil, login.accessTokenValidation != nil {
      return error(path, "give one of oidcAuthorizationCode and accessTokenValidation")
    }
    if let validation = login.accessTokenValidation {
      return check(accessTokenValidation: validation, at: path.appending("accessTokenValidation"))
    }
    guard let flow = login.oidcAuthorizationCode else {
      if login.oauth2 == nil { error(path, "give oidcAuthorizationCode or accessTokenValidation") }
      return
    }
    let at = path.appending("oidcAuthorizationCode")
    for (field, url) in [("appUrl", flow.appUrl), ("issuerUrl", flow.issuerUrl)] {
      if let problem = Self.serviceURLProblem(url) { error(at.appending(field), problem) }
    }
    if Self.serviceURLProblem(flow.appUrl) == nil, let url = URL(string: flow.appUrl), !url.path.isEmpty,
      url.path != "/"
    {
      error(
        at.appending("appUrl"),
        "give the application's origin without a path (callbackPath and the pages people return to are paths on it)"
      )
    }
    if let afterLogout = flow.afterLogoutUrl, let problem = Self.serviceURLProblem(afterLogout) {
      error(at.appending("afterLogoutUrl"), problem)
    }
    for (field, value) in [("callbackPath", flow.callbackPath), ("logoutPath", flow.logoutPath)] {
      if let value, !value.hasPrefix("/") { error(at.appending(field), "'\(value)' must start with /") }
    }
    if flow.clientId.isEmpty { error(at.appending("clientId"), "give the client ID the provider knows") }
    let unenforcedFields: [(String, Bool)] = [
      ("discoveryOverride", flow.discoveryOverride != nil),
      ("discoveryPollInterval", flow.discoveryPollInterval != nil),
      ("jwksCacheRefreshPolicy", flow.jwksCacheRefreshPolicy != nil),
      ("sessionIdHeaderName", flow.sessionIdHeaderName != nil),
      ("parseCallbackPathAsRegex", flow.parseCallbackPathAsRegex == true),
      ("autoMapFromMetadata", flow.autoMapFromMetadata != nil),
      ("endSessionProperties", flow.endSessionProperties != nil),
    ]
    for (field, isSet) in unenforcedFields where isSet { unenforced(at.appending(field), field) }
    if let redis = flow.session?.redis {
      let field = at.appending("session").appending("redis")
      if RedisHostPort(redis.options.host) == nil {
        error(field.appending("options").appending("host"), "'\(redis.options.host)' is not host:port")
      }
      if let db = redis.options.db, db != 0 {
        error(
          field.appending("options").appending("db"),
          "only database 0 is supported by this version of Portico; the routes that use this AuthConfig answer as invalid routes"
        )
      }
      let unenforcedRedis: [(FieldPath, String, Bool)] = [
        (field.appending("options").appending("socketType"), "socketType", redis.options.socketType != nil),
        (
          field.appending("options").appending("tlsCertMountPath"), "tlsCertMountPath",
          redis.options.tlsCertMountPath != nil
        ),
        (field.appending("preExpiryBuffer"), "preExpiryBuffer", redis.preExpiryBuffer != nil),
        (field.appending("headerName"), "headerName", redis.headerName != nil),
      ]
      for (place, name, isSet) in unenforcedRedis where isSet { unenforced(place, name) }
    }
    let sameSites = ["LaxMode", "StrictMode", "NoneMode", "DefaultMode"]
    if let sameSite = flow.session?.cookieOptions?.sameSite, !sameSites.contains(sameSite) {
      error(
        at.appending("session").appending("cookieOptions").appending("sameSite"),
        "'\(sameSite)' is not one of \(sameSites.joined(separator: ", "))")
    }
    for (field, header) in [
      ("idTokenHeader", flow.headers?.idTokenHeader), ("accessTokenHeader", flow.headers?.accessTokenHeader),
    ] {
      if let header, !HTTPToken.isValid(header) {
        error(at.appending("headers").appending(field), "invalid header name '\(header)'")
      }
    }
  }

  private mutating func check(accessTokenValidation validation: AccessTokenValidation, at path: FieldPath) {
    let ways = [
      validation.introspectionUrl != nil, validation.introspection != nil, validation.jwt != nil,
    ].filter { $0 }.count
    guard ways == 1 else {
      return error(path, "give one of introspection (or introspectionUrl) and jwt")
    }
    if validation.userinfoUrl != nil {
      error(
        path.appending("userinfoUrl"),
        "userinfoUrl is not enforced by this version of Portico; the routes that use this AuthConfig answer as invalid routes"
      )
    }
    if let url = validation.introspectionUrl ?? validation.introspection?.introspectionUrl,
      let problem = Self.serviceURLProblem(url)
    {
      let field = validation.introspectionUrl != nil ? path : path.appending("introspection")
      error(field.appending("introspectionUrl"), problem)
    }
    if let jwt = validation.jwt {
      let at = path.appending("jwt")
      switch (jwt.remoteJwks, jwt.localJwks) {
      case (let remote?, nil):
        if let problem = Self.serviceURLProblem(remote.url) {
          error(at.appending("remoteJwks").appending("url"), problem)
        }
      case (nil, .some): break
      default: error(at, "give one of remoteJwks and localJwks")
      }
    }
    if let timeout = validation.cacheTimeout, timeout.nanoseconds == nil {
      error(path.appending("cacheTimeout"), "'\(timeout.text)' is not a duration")
    }
  }

  private mutating func check(opaAuth policy: OPAAuth, at path: FieldPath) {
    if (policy.modules ?? []).isEmpty {
      error(path.appending("modules"), "give the ConfigMaps that hold the policy's Rego modules")
    }
    if policy.query.trimmingCharacters(in: .whitespaces).isEmpty {
      error(
        path.appending("query"), "give the query that must yield true, such as data.httpapi.allow == true")
    }
    if policy.options?.returnDecisionReason == true {
      error(
        path.appending("options").appending("returnDecisionReason"),
        "returnDecisionReason is not enforced by this version of Portico; the routes that use this AuthConfig answer as invalid routes"
      )
    }
  }

  private mutating func check(passThroughGRPC grpc: PassThroughAuth.GRPC, at path: FieldPath) {
    if GRPCAddress(grpc.address) == nil {
      error(path.appending("address"), "'\(grpc.address)' is not host:port")
    }
    for (field, isSet) in [
      ("connectionTimeout", grpc.connectionTimeout != nil), ("tlsConfig", grpc.tlsConfig != nil),
      ("retryPolicy", grpc.retryPolicy != nil),
    ] where isSet {
      error(
        path.appending(field),
        "\(field) is not enforced by this version of Portico over gRPC (the route's requestTimeout bounds the check); the routes that use this AuthConfig answer as invalid routes"
      )
    }
  }

  private mutating func check(passThroughAuth service: PassThroughAuth, at path: FieldPath) {
    if let grpc = service.grpc {
      guard service.http == nil else {
        error(path, "give one of http and grpc, not both")
        return
      }
      return check(passThroughGRPC: grpc, at: path.appending("grpc"))
    }
    guard let http = service.http else {
      error(
        path, "give http (the URL of the service that decides) or grpc (the address of an ext_authz server)")
      return
    }
    let at = path.appending("http")
    if let problem = Self.serviceURLProblem(http.url) { error(at.appending("url"), problem) }
    let request = at.appending("request")
    for header in http.request?.allowedHeaders ?? [] where !HTTPToken.isValid(header) {
      error(request.appending("allowedHeaders"), "invalid header name '\(header)'")
    }
    for header in (http.request?.headersToAdd ?? [:]).keys.sorted() where !HTTPToken.isValid(header) {
      error(request.appending("headersToAdd"), "invalid header name '\(header)'")
    }
    for (field, isSet) in [
      ("passThroughState", http.request?.passThroughState),
      ("passThroughBody", http.request?.passThroughBody),
    ] where isSet == true {
      error(
        request.appending(field),
        "\(field) is not enforced by this version of Portico; the routes that use this AuthConfig answer as invalid routes"
      )
    }
    if http.response?.readStateFromResponse == true {
      error(
        at.appending("response").appending("readStateFromResponse"),
        "readStateFromResponse is not enforced by this version of Portico; the routes that use this AuthConfig answer as invalid routes"
      )
    }
    for (field, headers) in [
      ("allowedUpstreamHeaders", http.response?.allowedUpstreamHeaders),
      ("allowedUpstreamHeadersToAppend", http.response?.allowedUpstreamHeadersToAppend),
      ("allowedClientHeadersOnDenied", http.response?.allowedClientHeadersOnDenied),
    ] {
      for header in headers ?? [] where !HTTPToken.isValid(header) {
        error(at.appending("response").appending(field), "invalid header name '\(header)'")
      }
    }
  }

  /// The most work a bcrypt hash may ask for: each check runs 2^cost key expansions (cost 12 takes about a
  /// quarter of a second on a thread of its own).
  static let bcryptMaximumCost = 14

  /// Nil when `text` is a bcrypt hash the gateway checks (`$2a$`, `$2b$`, `$2y$`, cost 4 to 14); otherwise
  /// what is wrong.
  static func bcryptProblem(_ text: String) -> String? {
    let parts = text.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0].isEmpty, ["2a", "2b", "2y"].contains(parts[1]), parts[2].count == 2,
      let cost = Int(parts[2]), parts[3].count == 53,
      parts[3].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "/") })
    else { return "not a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash)" }
    guard (4...bcryptMaximumCost).contains(cost) else {
      return
        "bcrypt cost \(cost) is outside 4...\(bcryptMaximumCost): every check would cost 2^\(cost) key expansions"
    }
    return nil
  }

  /// Nil when `text` is an `http://` or `https://` URL with a host; otherwise what is wrong.
  static func serviceURLProblem(_ text: String) -> String? {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
      ["http", "https"].contains(scheme),
      let host = url.host, !host.isEmpty
    else { return "'\(text)' is not an http:// or https:// URL with a host" }
    return nil
  }

  mutating func check(jwt: JWTAuth, at path: FieldPath) {
    if jwt.providers.isEmpty { error(path.appending("providers"), "a jwt step needs at least one provider") }
    let policies = ["REQUIRE_VALID", "ALLOW_MISSING", "ALLOW_MISSING_OR_FAILED"]
    if let policy = jwt.validationPolicy, !policies.contains(policy) {
      error(
        path.appending("validationPolicy"), "'\(policy)' is not one of \(policies.joined(separator: ", "))")
    }
    for (name, provider) in jwt.providers.sorted(by: { $0.key < $1.key }) {
      let at = path.appending("providers").appending(name)
      switch (provider.jwks.local, provider.jwks.remote) {
      case (let local?, nil):
        if let problem = JWKSText.problem(in: local.key) {
          error(at.appending("jwks").appending("local").appending("key"), problem)
        }
      case (nil, let remote?):
        let field = at.appending("jwks").appending("remote")
        if let problem = Self.serviceURLProblem(remote.url) { error(field.appending("url"), problem) }
        if let duration = remote.cacheDuration, (duration.nanoseconds ?? -1) <= 0 {
          error(field.appending("cacheDuration"), "'\(duration)' is not a positive duration")
        }
        if remote.upstreamRef != nil {
          warning(
            field.appending("upstreamRef"),
            "Portico fetches the keys from url itself; upstreamRef is not used")
        }
      default:
        error(at.appending("jwks"), "give exactly one of local, remote")
      }
      for header in provider.tokenSource?.headers ?? [] where !HTTPToken.isValid(header.header) {
        error(at.appending("tokenSource").appending("headers"), "invalid header name '\(header.header)'")
      }
      for (index, entry) in (provider.claimsToHeaders ?? []).enumerated() {
        if !HTTPToken.isValid(entry.header) {
          error(
            at.appending("claimsToHeaders").appending(index).appending("header"),
            "invalid header name '\(entry.header)'")
        }
        if entry.claim.isEmpty {
          error(at.appending("claimsToHeaders").appending(index).appending("claim"), "must not be empty")
        }
      }
    }
  }
}

/// What a `jwks.local.key` may hold: a JWKS or one JWK as JSON, or a PEM public key. Checked for shape at
/// load time; each key's numbers are checked when the gateway builds it.
public enum JWKSText {
  /// Nil when `text` has the shape of keys; otherwise what is wrong.
  public static func problem(in text: String) -> String? {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("-----BEGIN PUBLIC KEY-----") { return nil }
    guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
      return "not a JWKS, a JWK or a PEM public key"
    }
    let keys = (object["keys"] as? [[String: Any]]) ?? (object["kty"] != nil ? [object] : [])
    if keys.isEmpty { return "holds no keys (a JWKS needs a 'keys' list of JWKs with 'kty')" }
    for (index, key) in keys.enumerated() {
      guard let type = key["kty"] as? String, ["RSA", "EC", "oct"].contains(type) else {
        return "key \(index): 'kty' must be RSA, EC or oct"
      }
    }
    return nil
  }
}

/// An LDAP server's address as an AuthConfig gives it: `host:port` (plain LDAP), or a URL.
public struct LDAPAddress: Sendable, Hashable {
  /// `ldap://host:port` or `ldaps://host:port`.
  public let uri: String

  public init?(_ text: String) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let lowered = trimmed.lowercased()
    let withScheme =
      lowered.hasPrefix("ldap://") || lowered.hasPrefix("ldaps://") ? trimmed : "ldap://" + trimmed
    guard let url = URL(string: withScheme), let host = url.host, !host.isEmpty,
      url.path.isEmpty || url.path == "/", url.query == nil
    else { return nil }
    let scheme = url.scheme?.lowercased() ?? "ldap"
    let port = url.port ?? (scheme == "ldaps" ? 636 : 389)
    uri = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
  }
}

/// An ext_authz server's `host:port` (`[v6]:port` for an IPv6 address).
public struct GRPCAddress: Sendable, Hashable {
  public let host: String
  public let port: Int

  public init?(_ text: String) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
      (1...65535).contains(port)
    else { return nil }
    var host = String(trimmed[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, !host.contains("/"), host.contains(":") == trimmed.hasPrefix("[") else { return nil }
    self.host = host
    self.port = port
  }
}

/// A Redis node's `host:port`, as session stores name it.
public struct RedisHostPort: Sendable, Hashable {
  public let address: String

  public init?(_ text: String) {
    guard let address = GRPCAddress(text) else { return nil }
    self.address =
      address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
  }
}
