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
    public var oauth2: OAuth2Auth?
    public var opaAuth: OPAAuth?
    public var ldap: LDAPAuth?
    public var passThroughAuth: PassThroughAuth?
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

  /// A user's hash: the two parts of `$apr1$SALT$HASH`; or, without `salt`, a whole bcrypt hash
  /// (`$2y$10$...`, as `htpasswd -B` writes it) in `hashedPassword`.
  public struct APRUser: Codable, Hashable, Sendable {
    public var salt: String?
    public var hashedPassword: String

    /// Whether `hashedPassword` is a bcrypt hash rather than the APR1 part.
    public var isBCrypt: Bool { salt == nil && hashedPassword.hasPrefix("$2") }

    public init(salt: String?, hashedPassword: String) {
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

/// `ldap`: the user name and password of a Basic `Authorization` header, bound as the user's DN on an LDAP
/// server, then the user's groups checked.
public struct LDAPAuth: Codable, Hashable, Sendable {
  public struct Pool: Codable, Hashable, Sendable {
    /// Connections kept open at most (5 unless set).
    public var maxSize: UInt32?
    /// Connections opened before the first request (2 unless set).
    public var initialSize: UInt32?
  }

  /// `host:port`, or an `ldap://` / `ldaps://` URL.
  public var address: String
  /// The user's DN with `%s` where the (escaped) user name goes: `uid=%s,ou=people,dc=example,dc=org`.
  public var userDnTemplate: String
  /// The attribute of the user's entry that lists their groups (`memberOf` unless set).
  public var membershipAttributeName: String?
  /// Group DNs; a user in any one of them passes.
  public var allowedGroups: [String]?
  public var pool: Pool?
  /// Only the bind: any user whose password binds passes.
  public var disableGroupChecking: Bool?

  public init(address: String, userDnTemplate: String, allowedGroups: [String]? = nil) {
    self.address = address
    self.userDnTemplate = userDnTemplate
    self.allowedGroups = allowedGroups
  }
}

/// `opaAuth`: a Rego policy decides, evaluated in the gateway. The modules are the entries of ConfigMaps (in
/// the AuthConfig's namespace unless a ref names another); the request passes when `query` yields `true`.
public struct OPAAuth: Codable, Hashable, Sendable {
  public struct Options: Codable, Hashable, Sendable {
    /// Gloo's faster conversion of the input: the input is the same either way, so it is accepted.
    public var fastInputConversion: Bool?
    /// Not enforced: a validation error.
    public var returnDecisionReason: Bool?
  }

  public var modules: [ObjectRef]?
  public var query: String
  public var options: Options?

  public init(modules: [ObjectRef], query: String) {
    self.modules = modules
    self.query = query
  }
}

/// `passThroughAuth`: a service of the user's decides. Over HTTP the gateway asks `http.url` about each
/// request and the service's status answers: 2xx lets it through, 401 and 403 refuse it, anything else
/// (or no answer in time) is a failed check.
public struct PassThroughAuth: Codable, Hashable, Sendable {
  public struct HTTP: Codable, Hashable, Sendable {
    public struct Request: Codable, Hashable, Sendable {
      /// Headers of the client's request the service sees (`authorization` is always sent).
      public var allowedHeaders: [String]?
      /// Headers every request to the service carries.
      public var headersToAdd: [String: String]?
      /// Not enforced: the gateway sends neither its state nor the client's body.
      public var passThroughState: Bool?
      public var passThroughBody: Bool?

      public init(allowedHeaders: [String]? = nil, headersToAdd: [String: String]? = nil) {
        self.allowedHeaders = allowedHeaders
        self.headersToAdd = headersToAdd
      }
    }

    public struct Response: Codable, Hashable, Sendable {
      /// Headers of an allowing answer that go upstream, in place of the client's.
      public var allowedUpstreamHeaders: [String]?
      /// Headers of an allowing answer that go upstream after the client's.
      public var allowedUpstreamHeadersToAppend: [String]?
      /// Headers of a refusing answer that go to the client (`www-authenticate`, say).
      public var allowedClientHeadersOnDenied: [String]?
      /// Not enforced.
      public var readStateFromResponse: Bool?

      public init(allowedUpstreamHeaders: [String]? = nil, allowedClientHeadersOnDenied: [String]? = nil) {
        self.allowedUpstreamHeaders = allowedUpstreamHeaders
        self.allowedClientHeadersOnDenied = allowedClientHeadersOnDenied
      }
    }

    public var url: String
    public var request: Request?
    public var response: Response?
    /// How long connecting to the service may take; the route's `requestTimeout` bounds the whole check.
    public var connectionTimeout: ManifestDuration?

    public init(url: String, request: Request? = nil, response: Response? = nil) {
      self.url = url
      self.request = request
      self.response = response
    }
  }

  /// Envoy's `envoy.service.auth.v3.Authorization/Check` over gRPC (h2c): an ext_authz server written for
  /// Envoy answers unchanged.
  public struct GRPC: Codable, Hashable, Sendable {
    /// `host:port`.
    public var address: String
    /// Not enforced over gRPC (the route's `requestTimeout` bounds the whole check): a validation error.
    public var connectionTimeout: ManifestDuration?
    /// Not enforced: a validation error.
    public var tlsConfig: OpaqueValue?
    public var retryPolicy: OpaqueValue?

    public init(address: String) { self.address = address }
  }

  public var http: HTTP?
  public var grpc: GRPC?
  /// The service cannot be reached or fails: let the request through (this step passes).
  public var failureModeAllow: Bool?

  public init(http: HTTP? = nil, grpc: GRPC? = nil, failureModeAllow: Bool? = nil) {
    self.http = http
    self.grpc = grpc
    self.failureModeAllow = failureModeAllow
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

    /// Keys served at a URL, fetched by the gateway and kept for `cacheDuration` (5 minutes unless set).
    public struct Remote: Codable, Hashable, Sendable {
      public var url: String
      /// Gloo fetches through this Upstream; Portico fetches `url` itself, so it is only checked for shape.
      public var upstreamRef: ObjectRef?
      public var cacheDuration: ManifestDuration?

      public init(url: String, cacheDuration: ManifestDuration? = nil) {
        self.url = url
        self.cacheDuration = cacheDuration
      }
    }

    public var local: Local?
    public var remote: Remote?
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
