import Crypto
import Foundation
import PorticoAPI
import PorticoRego

/// A route's external auth, resolved: the AuthConfig's steps with what they check against (API keys from
/// Secrets, already digested; users' hashes), how the steps combine, and the server settings that apply to
/// in-process checks too. Encoded (for `config_dump` and `routes`) without any key, hash or metadata value.
public struct ExtAuthConfig: Sendable, Hashable, Encodable {
  /// The AuthConfig, `namespace/name`.
  public var id: String
  public var steps: [Step]
  /// Unset: every step must pass.
  public var expression: BooleanExpression?
  /// When a check cannot be made (a backend down or slow): let the request through instead of answering
  /// `statusOnError`.
  public var failureModeAllow: Bool
  /// What a failed check answers; 403 unless set.
  public var statusOnError: Int
  /// Where the identity a step established goes upstream, replacing what the client sent.
  public var userIdHeader: String
  /// How long the steps that ask a backend may take, together, before the check fails; 2 s unless set.
  public var requestTimeoutNanoseconds: Int64
  /// Set: the steps run once the body has arrived, and see it (up to `maxBytes`).
  public var requestBody: RequestBody?

  public struct RequestBody: Sendable, Hashable, Encodable {
    public var maxBytes: Int
    public var allowPartial: Bool
    public var packAsBytes: Bool
  }

  public struct Step: Sendable, Hashable, Encodable {
    /// The step's name, or `configs[N]`.
    public var name: String
    public var check: Check
  }

  public enum Check: Sendable, Hashable, Encodable {
    case apiKey(APIKeyCheck)
    case basic(BasicCheck)
    case jwt(JWTCheck)
    case passThrough(PassThroughCheck)
    case passThroughGRPC(PassThroughGRPCCheck)
    case ldap(LDAPCheck)
    case opa(OPACheck)
    case oidc(OIDCCheck)
    case accessToken(AccessTokenCheck)

    public func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      switch self {
      case .apiKey(let check):
        try container.encode("apiKeyAuth", forKey: .mode)
        try container.encode(check.headerName, forKey: .header)
        try container.encode(check.keys.count, forKey: .keys)
      case .basic(let check):
        try container.encode("basicAuth", forKey: .mode)
        try container.encode(check.users.count, forKey: .users)
      case .jwt(let check):
        try container.encode("jwt", forKey: .mode)
        try container.encode(check.providers.map(\.name), forKey: .providers)
        try container.encode(check.policy.rawValue, forKey: .validationPolicy)
      case .passThrough(let check):
        try container.encode("passThroughAuth", forKey: .mode)
        try container.encode(check.endpoint, forKey: .service)
      case .passThroughGRPC(let check):
        try container.encode("passThroughAuth", forKey: .mode)
        try container.encode(check.endpoint, forKey: .service)
      case .oidc(let check):
        try container.encode("oauth2", forKey: .mode)
        try container.encode(check.issuerURL, forKey: .issuer)
        try container.encode(check.clientID, forKey: .clientId)
        try container.encode(check.callbackPath, forKey: .callbackPath)
      case .accessToken(let check):
        try container.encode("oauth2", forKey: .mode)
        switch check.validation {
        case .introspection(let url, _, _): try container.encode(url, forKey: .introspection)
        case .jwt(_, let remote, let issuer):
          if let remote { try container.encode(remote.url, forKey: .jwks) }
          if let issuer { try container.encode(issuer, forKey: .issuer) }
        }
        try container.encode(check.requiredScopes, forKey: .requiredScopes)
      case .opa(let check):
        try container.encode("opaAuth", forKey: .mode)
        try container.encode(check.program.modules.map(\.name), forKey: .modules)
        try container.encode(check.program.query, forKey: .query)
      case .ldap(let check):
        try container.encode("ldap", forKey: .mode)
        try container.encode(check.uri, forKey: .service)
        try container.encode(check.allowedGroups, forKey: .allowedGroups)
      }
    }

    private enum CodingKeys: String, CodingKey {
      case mode, header, keys, users, providers, validationPolicy, service, allowedGroups, modules, query,
        issuer,
        clientId, callbackPath, introspection, jwks, requiredScopes
    }
  }

  /// `apiKeyAuth`: keys by their SHA-256, and the headers filled from their Secrets.
  public struct APIKeyCheck: Sendable, Hashable {
    public var headerName: String
    public var keys: [APIKey]
    public var headers: [MetadataHeader]

    public struct MetadataHeader: Sendable, Hashable {
      public var header: String
      public var field: String
      public var required: Bool
    }
  }

  public struct APIKey: Sendable, Hashable {
    /// The Secret's name: who the key belongs to.
    public var identity: String
    /// SHA-256 of the key.
    public var digest: [UInt8]
    /// The Secret's other fields, as text, for `headersFromMetadata`.
    public var metadata: [String: String]
  }

  /// `passThroughAuth` over HTTP: where the service is, what it sees and what of its answer goes on.
  public struct PassThroughCheck: Sendable, Hashable {
    public var url: String
    /// Lowercased, `authorization` included.
    public var allowedHeaders: [String]
    public var headersToAdd: [String: String]
    /// Lowercased.
    public var upstreamHeaders: [String]
    public var upstreamHeadersToAppend: [String]
    public var clientHeadersOnDenied: [String]
    public var connectionTimeoutNanoseconds: Int64
    public var failureModeAllow: Bool

    /// The URL without credentials or query, as `config_dump` shows it.
    public var endpoint: String {
      guard var parts = URLComponents(string: url) else { return "" }
      parts.user = nil
      parts.password = nil
      parts.query = nil
      return parts.string ?? ""
    }
  }

  /// `passThroughAuth` over gRPC: the ext_authz server Envoy's `Authorization/Check` is put to.
  public struct PassThroughGRPCCheck: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var failureModeAllow: Bool
    /// Sent in the check request's `context_extensions` (a route's `customAuth.contextExtensions`).
    public var contextExtensions: [String: String] = [:]

    /// `grpc://host:port`, as `config_dump` shows it.
    public var endpoint: String { "grpc://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
  }

  /// `oauth2.accessTokenValidation`: how a bearer access token is checked, and the scopes it must carry.
  public struct AccessTokenCheck: Sendable, Hashable {
    public enum Validation: Sendable, Hashable {
      /// RFC 7662: the endpoint, and the client's ID and secret when it authenticates.
      case introspection(url: String, clientID: String?, clientSecret: String?)
      /// A signed JWT: keys as written (a JWKS, a JWK or a PEM key), or fetched.
      case jwt(localKeys: String?, remoteKeys: JWTCheck.RemoteKeys?, issuer: String?)
    }

    public var validation: Validation
    public var requiredScopes: [String]
    public var cacheSeconds: Int64
    /// The introspection answer's attribute that names the caller.
    public var userIDAttribute: String
  }

  /// `oauth2.oidcAuthorizationCode`: the provider, the client, where the flow's requests arrive, and how the
  /// session cookie is sealed and sent. Never encoded whole: it holds the client secret and session keys.
  public struct OIDCCheck: Sendable, Hashable {
    /// `https://shop.example.com`, without a trailing slash.
    public var appURL: String
    public var callbackPath: String
    public var clientID: String
    public var clientSecret: String?
    /// Without a trailing slash.
    public var issuerURL: String
    /// `openid` first.
    public var scopes: [String]
    public var authorizationParameters: [String: String]
    public var tokenParameters: [String: String]
    public var logoutPath: String?
    public var afterLogoutURL: String?
    /// Session keys, 32 bytes each: the first seals, all open. Empty: the gateway makes one per process (a
    /// warning on the AuthConfig says sessions end when the gateway restarts).
    public var sessionKeys: [[UInt8]]
    /// Where sessions are kept: sealed in the cookie, or in Redis (`host:port`) under the prefix, the cookie
    /// holding the session's ID.
    public var sessionStore: SessionStore
    public var cookie: Cookie
    public var idTokenHeader: String?
    public var accessTokenHeader: String?
    public var bearerAccessToken: Bool
    public var allowsRefreshing: Bool

    public enum SessionStore: Sendable, Hashable {
      case cookie
      case redis(address: String, keyPrefix: String)
    }

    public struct Cookie: Sendable, Hashable {
      /// The session cookie's name, and the prefix of the sign-in cookie's.
      public var sessionName: String
      public var prefix: String
      /// Nil: a browser session.
      public var maxAgeSeconds: Int?
      public var secure: Bool
      public var httpOnly: Bool
      public var path: String
      public var domain: String?
      /// `Lax`, `Strict`, `None`, or nil for no attribute.
      public var sameSite: String?
    }
  }

  /// `opaAuth`: the policy, compiled once at translation to report what does not compile.
  public struct OPACheck: Sendable, Hashable {
    public var program: RegoProgram
  }

  /// `ldap`: where the server is, how a user name becomes a DN, and the groups that pass.
  public struct LDAPCheck: Sendable, Hashable {
    /// `ldap://host:port` or `ldaps://host:port`.
    public var uri: String
    public var userDnTemplate: String
    public var membershipAttribute: String
    /// Empty with `checksGroups` false: every user who binds passes.
    public var allowedGroups: [String]
    public var checksGroups: Bool
    public var poolMaxSize: Int
    public var poolInitialSize: Int
  }

  /// `basicAuth`: APR1 hashes by user name.
  public struct BasicCheck: Sendable, Hashable {
    public var realm: String?
    public var users: [String: BasicAuth.APRUser]
  }

  /// `jwt`: providers tried in name order; keys as written (the gateway builds them).
  public struct JWTCheck: Sendable, Hashable {
    public enum Policy: String, Sendable, Hashable {
      case requireValid = "REQUIRE_VALID"
      case allowMissing = "ALLOW_MISSING"
      case allowMissingOrFailed = "ALLOW_MISSING_OR_FAILED"
    }

    public struct Provider: Sendable, Hashable {
      public var name: String
      /// `jwks.local.key`: a JWKS, a JWK or a PEM public key; empty when the keys are remote.
      public var keys: String
      /// `jwks.remote`: where the keys are served, and how long a fetched set is kept.
      public var remoteKeys: RemoteKeys?
      public var issuer: String?
      public var audiences: [String]
      public var sources: [TokenSource]
      public var keepToken: Bool
      public var claimsToHeaders: [ClaimHeader]
      public var clockSkewSeconds: Int
    }

    public struct RemoteKeys: Sendable, Hashable {
      public var url: String
      public var cacheSeconds: Int64
    }

    public enum TokenSource: Sendable, Hashable {
      /// Lowercased name, and the text before the token.
      case header(String, prefix: String)
      case query(String)
    }

    public struct ClaimHeader: Sendable, Hashable {
      public var claim: String
      /// Lowercased.
      public var header: String
      public var append: Bool
    }

    public var providers: [Provider]
    public var policy: Policy
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(id, forKey: .authConfig)
    try container.encode(steps.map(\.name), forKey: .steps)
    try container.encode(steps.map(\.check), forKey: .checks)
    try container.encodeIfPresent(expression.map { "\($0)" }, forKey: .booleanExpr)
    try container.encode(failureModeAllow, forKey: .failureModeAllow)
    try container.encode(statusOnError, forKey: .statusOnError)
    try container.encode(userIdHeader, forKey: .userIdHeader)
    try container.encode(ManifestDuration(nanoseconds: requestTimeoutNanoseconds), forKey: .requestTimeout)
  }

  private enum CodingKeys: String, CodingKey {
    case authConfig, steps, checks, booleanExpr, failureModeAllow, statusOnError, userIdHeader, requestTimeout
  }

  /// By the AuthConfig and its settings, not its keys: the gateway shares one filter per equal config, and
  /// hashing every API key once per route made a reload cost routes × keys. Equality still compares
  /// everything, and is quick for the routes of one translation, which share one resolution's arrays.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
    hasher.combine(steps.map(\.name))
    hasher.combine(failureModeAllow)
    hasher.combine(statusOnError)
    hasher.combine(userIdHeader)
    hasher.combine(requestTimeoutNanoseconds)
  }
}

extension ExtAuthConfig.APIKey {
  /// The key a Secret of type `extauth.solo.io/apikey` holds: `api-key` (digested here), or its SHA-256 in
  /// `api-key-sha256` (32 bytes, or 64 hexadecimal digits), as the developer portal stores issued keys.
  /// Nil when it holds neither.
  init?(identity: String, secret: SecretData) {
    if let key = secret.value(for: "api-key"), !key.isEmpty {
      digest = Array(SHA256.hash(data: key))
    } else if let stored = secret.value(for: "api-key-sha256"), let digest = Self.digest(stored) {
      self.digest = digest
    } else {
      return nil
    }
    self.identity = identity
    var metadata: [String: String] = [:]
    for field in secret.keys where field != "api-key" && field != "api-key-sha256" {
      if let value = secret.value(for: field) { metadata[field] = String(decoding: value, as: UTF8.self) }
    }
    self.metadata = metadata
  }

  private static func digest(_ stored: [UInt8]) -> [UInt8]? {
    if stored.count == 32 { return stored }
    let text = String(decoding: stored, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard text.utf8.count == 64 else { return nil }
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
      let next = text.index(index, offsetBy: 2)
      guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
      bytes.append(byte)
      index = next
    }
    return bytes
  }
}

extension BooleanExpression: CustomStringConvertible {
  public var description: String {
    switch self {
    case .name(let name): name
    case .not(let inner): "!\(inner.grouped)"
    case .and(let lhs, let rhs): "\(lhs.grouped) && \(rhs.grouped)"
    case .or(let lhs, let rhs): "\(lhs.grouped) || \(rhs.grouped)"
    }
  }

  private var grouped: String {
    if case .name = self { return description }
    if case .not = self { return description }
    return "(\(description))"
  }
}
