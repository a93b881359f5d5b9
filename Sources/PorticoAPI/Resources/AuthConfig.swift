/// External auth (spec §1.8): an AuthConfig lists the checks a request must pass before it reaches its
/// upstream. Field names follow Gloo's `enterprise.gloo.solo.io/v1` AuthConfig, so its manifests load
/// unchanged.
public struct AuthConfigSpec: Codable, Hashable, Sendable {
  /// One check. Exactly one mode is set.
  public struct Step: Codable, Hashable, Sendable {
    /// What `booleanExpr` calls the step.
    public var name: String?
    public var apiKeyAuth: APIKeyAuth?
    public var basicAuth: BasicAuth?
    public var jwt: JWTAuth?
    public var oauth2: OpaqueValue?
    public var opaAuth: OpaqueValue?
    public var ldap: OpaqueValue?
    public var passThroughAuth: OpaqueValue?
    public var pluginAuth: OpaqueValue?

    public init(name: String? = nil, apiKeyAuth: APIKeyAuth? = nil, basicAuth: BasicAuth? = nil) {
      self.name = name
      self.apiKeyAuth = apiKeyAuth
      self.basicAuth = basicAuth
    }

    /// The modes set, by their field names.
    public var modes: [String] {
      [
        ("apiKeyAuth", apiKeyAuth != nil), ("basicAuth", basicAuth != nil), ("jwt", jwt != nil),
        ("oauth2", oauth2 != nil), ("opaAuth", opaAuth != nil), ("ldap", ldap != nil),
        ("passThroughAuth", passThroughAuth != nil), ("pluginAuth", pluginAuth != nil),
      ].filter(\.1).map(\.0)
    }
  }

  public var configs: [Step]?
  /// How the steps' outcomes combine, over their names: `(a || b) && !c`. Unset: every step must pass.
  public var booleanExpr: String?

  public init(configs: [Step]? = nil, booleanExpr: String? = nil) {
    self.configs = configs
    self.booleanExpr = booleanExpr
  }
}

/// `apiKeyAuth`: the request carries a key that one of the chosen Secrets holds.
public struct APIKeyAuth: Codable, Hashable, Sendable {
  /// A header to fill from a field of the key's Secret.
  public struct MetadataHeader: Codable, Hashable, Sendable {
    /// The Secret's field.
    public var name: String
    /// A key whose Secret lacks the field is refused.
    public var required: Bool?

    public init(name: String, required: Bool? = nil) {
      self.name = name
      self.required = required
    }
  }

  /// Where the client sends the key; `api-key` by default.
  public var headerName: String?
  /// Secrets of type `extauth.solo.io/apikey` in the AuthConfig's namespace with these labels.
  public var labelSelector: [String: String]?
  /// Secrets named one by one (their namespace defaults to the AuthConfig's).
  public var apiKeySecretRefs: [ObjectRef]?
  /// Headers sent upstream, by header name, from fields of the key's Secret.
  public var headersFromMetadata: [String: MetadataHeader]?
  /// The same, as newer Gloo versions spell it.
  public var headersFromMetadataEntry: [String: MetadataHeader]?

  public init(
    headerName: String? = nil, labelSelector: [String: String]? = nil, apiKeySecretRefs: [ObjectRef]? = nil,
    headersFromMetadata: [String: MetadataHeader]? = nil
  ) {
    self.headerName = headerName
    self.labelSelector = labelSelector
    self.apiKeySecretRefs = apiKeySecretRefs
    self.headersFromMetadata = headersFromMetadata
  }
}

/// `basicAuth`: a user name and password (RFC 7617) checked against APR1-MD5 hashes, as Apache's
/// `htpasswd -m` writes them.
public struct BasicAuth: Codable, Hashable, Sendable {
  public struct APR: Codable, Hashable, Sendable {
    /// By user name.
    public var users: [String: APRUser]

    public init(users: [String: APRUser]) { self.users = users }
  }

  /// A user's hash: the two parts of `$apr1$SALT$HASH`.
  public struct APRUser: Codable, Hashable, Sendable {
    public var salt: String
    public var hashedPassword: String

    public init(salt: String, hashedPassword: String) {
      self.salt = salt
      self.hashedPassword = hashedPassword
    }
  }

  /// Named in the `WWW-Authenticate` challenge.
  public var realm: String?
  public var apr: APR?

  public init(realm: String? = nil, apr: APR? = nil) {
    self.realm = realm
    self.apr = apr
  }
}

/// `jwt`: a bearer token signed by one of the providers' keys, with the claims they require. Providers are
/// tried in turn; the first that accepts the token lets the request through.
public struct JWTAuth: Codable, Hashable, Sendable {
  public var providers: [String: JWTProvider]
  /// `REQUIRE_VALID` (the default), `ALLOW_MISSING` (no token passes, a bad one does not) or
  /// `ALLOW_MISSING_OR_FAILED` (only sets headers from tokens that verify).
  public var validationPolicy: String?

  public init(providers: [String: JWTProvider], validationPolicy: String? = nil) {
    self.providers = providers
    self.validationPolicy = validationPolicy
  }
}

public struct JWTProvider: Codable, Hashable, Sendable {
  public struct Keys: Codable, Hashable, Sendable {
    public struct Local: Codable, Hashable, Sendable {
      /// A JWKS (`{"keys": [...]}`), one JWK, or a PEM public key.
      public var key: String
    }

    public var local: Local?
    public var remote: OpaqueValue?
  }

  public struct TokenSource: Codable, Hashable, Sendable {
    public struct Header: Codable, Hashable, Sendable {
      public var header: String
      /// Text before the token, `Bearer ` say.
      public var prefix: String?
    }

    public var headers: [Header]?
    public var queryParams: [String]?
  }

  public struct ClaimToHeader: Codable, Hashable, Sendable {
    public var claim: String
    public var header: String
    public var append: Bool?
  }

  public var jwks: Keys
  public var issuer: String?
  public var audiences: [String]?
  /// Unset: `Authorization: Bearer` and the `access_token` query parameter.
  public var tokenSource: TokenSource?
  /// Send the token on upstream (by default it is removed).
  public var keepToken: Bool?
  public var claimsToHeaders: [ClaimToHeader]?
  /// Leeway for `exp` and `nbf`; 60 s unless set.
  public var clockSkewSeconds: UInt32?
}
