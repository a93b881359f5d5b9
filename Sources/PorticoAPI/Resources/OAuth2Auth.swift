/// `oauth2`: people sign in at an OpenID Connect provider (the authorization code flow), and their browser
/// keeps the session in a cookie the gateway encrypts. Field names follow Gloo's.
public struct OAuth2Auth: Codable, Hashable, Sendable {
  public var oidcAuthorizationCode: OIDCAuthorizationCode?
  public var accessTokenValidation: AccessTokenValidation?
  public var oauth2: OpaqueValue?

  public init(oidcAuthorizationCode: OIDCAuthorizationCode) {
    self.oidcAuthorizationCode = oidcAuthorizationCode
  }
}

/// `accessTokenValidation`: a bearer access token checked by the provider that issued it (RFC 7662
/// introspection) or by its signature (a JWT), with the scopes it must carry.
public struct AccessTokenValidation: Codable, Hashable, Sendable {
  public struct Introspection: Codable, Hashable, Sendable {
    public var introspectionUrl: String
    public var clientId: String?
    /// A Secret with `client-secret`: the gateway authenticates to the endpoint with HTTP Basic.
    public var clientSecretRef: ObjectRef?
    public var disableClientSecret: Bool?
    /// The answer's attribute that names the caller; `sub` unless set.
    public var userIdAttributeName: String?
  }

  public struct JWT: Codable, Hashable, Sendable {
    public struct RemoteJwks: Codable, Hashable, Sendable {
      public var url: String
      /// How long a fetched key set is kept; 5 minutes unless set.
      public var refreshInterval: ManifestDuration?
    }

    public struct LocalJwks: Codable, Hashable, Sendable {
      public var inlineString: String
    }

    public var remoteJwks: RemoteJwks?
    public var localJwks: LocalJwks?
    public var issuer: String?
  }

  public struct RequiredScopes: Codable, Hashable, Sendable {
    public var scope: [String]?
  }

  /// Gloo's older spelling of `introspection.introspectionUrl`.
  public var introspectionUrl: String?
  public var introspection: Introspection?
  public var jwt: JWT?
  /// Not enforced: a validation error.
  public var userinfoUrl: String?
  /// How long a token that passed is trusted without asking again (never past its expiry); 10 minutes
  /// unless set.
  public var cacheTimeout: ManifestDuration?
  public var requiredScopes: RequiredScopes?
}

public struct OIDCAuthorizationCode: Codable, Hashable, Sendable {
  /// Where people reach the application (`https://shop.example.com`): the callback and the pages people
  /// return to after signing in are under it.
  public var appUrl: String
  /// The path the provider sends people back to with the code; `/oauth-gloo-callback` unless set.
  public var callbackPath: String?
  public var clientId: String
  /// A Secret with the client's secret under `client-secret` (Gloo's `extauth.solo.io/oauth` Secrets).
  public var clientSecretRef: ObjectRef?
  /// The provider; its discovery document is read from `/.well-known/openid-configuration` under it.
  public var issuerUrl: String
  /// Asked for besides `openid`.
  public var scopes: [String]?
  /// Added to the authorization and token requests.
  public var authEndpointQueryParams: [String: String]?
  public var tokenEndpointQueryParams: [String: String]?
  /// A request to this path ends the session: the cookie is cleared, and the browser goes to the
  /// provider's end-session endpoint (when it has one), then to `afterLogoutUrl`.
  public var logoutPath: String?
  public var afterLogoutUrl: String?
  public var session: Session?
  public var headers: Headers?
  /// Not enforced: validation errors.
  public var discoveryOverride: OpaqueValue?
  public var discoveryPollInterval: OpaqueValue?
  public var jwksCacheRefreshPolicy: OpaqueValue?
  public var sessionIdHeaderName: String?
  public var parseCallbackPathAsRegex: Bool?
  public var autoMapFromMetadata: OpaqueValue?
  public var endSessionProperties: OpaqueValue?

  public struct Session: Codable, Hashable, Sendable {
    public var cookieOptions: CookieOptions?
    /// The Secret whose `key` (32 bytes) encrypts session cookies; `previous-key`, when set, still opens
    /// cookies sealed before a rotation.
    public var cipherConfig: CipherConfig?
    public var cookie: Cookie?
    /// A session the provider cannot refresh sends people to sign in again (always so).
    public var failOnFetchFailure: Bool?
    /// Sessions kept in Redis, the cookie holding only a random session ID: every replica sees the same
    /// sessions, and a logout ends the session everywhere.
    public var redis: RedisSession?

    public struct RedisSession: Codable, Hashable, Sendable {
      public struct Options: Codable, Hashable, Sendable {
        /// `host:port`.
        public var host: String
        /// Only 0 is supported: a validation error otherwise.
        public var db: Int?
        /// Accepted: each event loop keeps one connection.
        public var poolSize: Int?
        /// Not enforced: validation errors.
        public var socketType: String?
        public var tlsCertMountPath: String?
      }

      public var options: Options
      /// Prepended to session IDs in Redis; `portico-session:` unless set.
      public var keyPrefix: String?
      public var cookieName: String?
      public var allowRefreshing: Bool?
      public var targetDomain: String?
      /// Not enforced: validation errors.
      public var preExpiryBuffer: ManifestDuration?
      public var headerName: String?
    }

    public struct CipherConfig: Codable, Hashable, Sendable {
      public var keyRef: ObjectRef?
    }

    public struct Cookie: Codable, Hashable, Sendable {
      /// Renew an expired ID token with the refresh token; true unless set.
      public var allowRefreshing: Bool?
      /// Prepended to the cookies' names.
      public var keyPrefix: String?
      public var targetDomain: String?
    }
  }

  public struct CookieOptions: Codable, Hashable, Sendable {
    /// Seconds; 30 days unless set (0: a browser session).
    public var maxAge: UInt32?
    /// Send the cookie over plain HTTP too (for development).
    public var notSecure: Bool?
    public var path: String?
    public var domain: String?
    /// `LaxMode` (the default), `StrictMode`, `NoneMode` or `DefaultMode` (no attribute).
    public var sameSite: String?
    public var httpOnly: Bool?
  }

  public struct Headers: Codable, Hashable, Sendable {
    /// The ID token goes upstream in this header.
    public var idTokenHeader: String?
    /// The access token goes upstream in this header.
    public var accessTokenHeader: String?
    /// Send the access token as `Bearer TOKEN`.
    public var useBearerSchemaForAuthorization: Bool?
  }

  public init(appUrl: String, clientId: String, issuerUrl: String) {
    self.appUrl = appUrl
    self.clientId = clientId
    self.issuerUrl = issuerUrl
  }
}
