import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PorticoTranslate

/// `oauth2.accessTokenValidation`: the bearer access token in `Authorization` is checked by the provider
/// that issued it (RFC 7662 introspection: it must be `active`) or by its signature (a JWT, in date, from the
/// issuer), and must carry every required scope. A token that passed is trusted on its event loop for
/// `cacheTimeout`, never past its expiry. No token, or one that does not check, is 401 with
/// `error="invalid_token"`; a token without a required scope is 403 with `error="insufficient_scope"`
/// (RFC 6750 §3.1); an endpoint that cannot answer is a failed check.
struct AccessTokenStep: AuthStep {
  private let check: ExtAuthConfig.AccessTokenCheck
  private let cacheKey: LoopStateKey
  private let timeout: TimeAmount
  private let localKeys: JWTKeySet?
  private let remoteKeys: RemoteJWKS?

  /// What a token that checked grants.
  struct Grant {
    let subject: String?
    let scopes: Set<String>
    /// Seconds since 1970; nil when the token does not say.
    let expires: Int64?
  }

  init(_ check: ExtAuthConfig.AccessTokenCheck, cacheKey: String, timeout: TimeAmount) {
    self.check = check
    // Tokens trusted under other settings (another key, issuer or scope) are not trusted under these.
    self.cacheKey = LoopStateKey("\(cacheKey).\(check.hashValue)")
    self.timeout = timeout
    if case .jwt(let local, let remote, _) = check.validation {
      localKeys = local.map(JWTKeySet.init)
      remoteKeys = remote.map { RemoteJWKS.shared(url: $0.url, cacheSeconds: $0.cacheSeconds) }
    } else {
      localKeys = nil
      remoteKeys = nil
    }
  }

  var replacedHeaders: [String] { [] }

  private static let invalid = AuthOutcome.denied(
    status: 401, challenge: "Bearer realm=\"portico\", error=\"invalid_token\"")

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    guard let header = call.request.head.firstValue(named: "authorization"),
      header.count > 7, header.prefix(7).lowercased() == "bearer "
    else {
      return .denied(status: 401, challenge: "Bearer realm=\"portico\"")
    }
    let token = header.dropFirst(7).drop { $0 == " " }
    let now = Int64(Date().timeIntervalSince1970)
    let trusted = call.loopState(cacheKey) { RecentPasses<Substring, Grant>(lifetime: check.cacheSeconds) }
    if let grant = trusted.value(for: token, at: now), grant.expires.map({ $0 > now }) ?? true {
      return decide(grant)
    }
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let remember = NIOLoopBound(
      { (grant: Grant) in trusted.insert(grant, for: Substring(String(token)), at: now) }, eventLoop: loop)
    let finish: (Result<Grant?, any Error>) -> Void = { result in
      switch result {
      case .success(let grant?) where grant.expires.map { $0 <= now } ?? false:
        // An endpoint that says active about a token past its `exp` is not believed.
        answer.value(Self.invalid)
      case .success(let grant?):
        remember.value(grant)
        answer.value(decide(grant))
      case .success(nil): answer.value(Self.invalid)
      case .failure(let error):
        answer.value(.failed(reason: "the access token could not be checked: \(error)"))
      }
    }
    switch check.validation {
    case .introspection(let url, let clientID, let clientSecret):
      introspect(String(token), at: url, clientID: clientID, clientSecret: clientSecret, on: loop, finish)
    case .jwt(_, _, let issuer):
      verify(String(token), issuer: issuer, at: now, on: loop, finish)
    }
    return nil
  }

  /// Through with the caller's identity when the grant holds every required scope.
  private func decide(_ grant: Grant) -> AuthOutcome {
    guard check.requiredScopes.allSatisfy(grant.scopes.contains) else {
      return .denied(
        status: 403,
        challenge:
          "Bearer realm=\"portico\", error=\"insufficient_scope\", scope=\"\(check.requiredScopes.joined(separator: " "))\""
      )
    }
    return .allowed(identity: grant.subject, headers: [])
  }

  /// RFC 7662 §2: the token is POSTed to the endpoint; an answer that is not `active` grants nothing.
  private func introspect(
    _ token: String, at url: String, clientID: String?, clientSecret: String?, on loop: EventLoop,
    _ done: @escaping (Result<Grant?, any Error>) -> Void
  ) {
    guard
      let request = OAuthForm.request(
        to: url, [("token", token), ("token_type_hint", "access_token")], clientID: clientID,
        clientSecret: clientSecret)
    else { return done(.failure(IntrospectionFailure(reason: "bad endpoint URL"))) }
    let attribute = check.userIDAttribute
    AuthHTTPClient.client(connectTimeoutNanoseconds: 1_000_000_000)
      .execute(request: request, deadline: .now() + timeout).hop(to: loop).whenComplete { result in
        guard let json = OAuthForm.object(in: result) else {
          return done(.failure(IntrospectionFailure(reason: "no usable answer")))
        }
        guard json["active"] as? Bool == true else { return done(.success(nil)) }
        done(
          .success(
            Grant(
              subject: json[attribute] as? String, scopes: Self.scopes(json["scope"]),
              expires: (json["exp"] as? NSNumber)?.int64Value)))
      }
  }

  /// A JWT access token: signed by one of the keys (a remote set fetched again once for a key it has not
  /// seen), in date, from the issuer when one is set.
  private func verify(
    _ text: String, issuer: String?, at now: Int64, on loop: EventLoop,
    _ done: @escaping (Result<Grant?, any Error>) -> Void
  ) {
    func grant(_ keys: JWTKeySet?) -> Grant?? {
      guard let token = JWTToken(text[...]) else { return .some(nil) }
      guard let keys else { return nil }
      switch token.signature(checkedWith: keys) {
      case .valid: break
      case .unknownKey: return remoteKeys == nil ? .some(nil) : nil
      case .invalid: return .some(nil)
      }
      let expires = (token.claims["exp"] as? NSNumber)?.int64Value
      if let expires, expires <= now { return .some(nil) }
      if let notBefore = (token.claims["nbf"] as? NSNumber)?.int64Value, notBefore > now { return .some(nil) }
      if let issuer, token.claims["iss"] as? String != issuer { return .some(nil) }
      return .some(
        Grant(
          subject: token.claims["sub"] as? String,
          scopes: Self.scopes(token.claims["scope"] ?? token.claims["scp"]),
          expires: expires))
    }
    guard let remoteKeys else { return done(.success(grant(localKeys) ?? nil)) }
    let current = remoteKeys.current().keys
    // A set past its `refreshInterval` still serves while the next one is fetched.
    if current != nil, remoteKeys.wantsFetch(at: now) { remoteKeys.refresh(at: now, timeout: timeout) {} }
    if let decided = grant(current) { return done(.success(decided)) }
    // A key the set lacks is fetched for at most once a second: a flood of made-up `kid`s costs no more.
    guard current == nil || remoteKeys.wantsFetch(at: now, unknownKey: true) else {
      return done(.success(nil))
    }
    let retry = NIOLoopBound(
      {
        guard let keys = remoteKeys.current().keys else {
          return done(.failure(IntrospectionFailure(reason: "the key set could not be fetched")))
        }
        done(.success(grant(keys) ?? nil))
      }, eventLoop: loop)
    remoteKeys.refresh(at: now, timeout: timeout) { loop.execute { retry.value() } }
  }

  /// `scope` as RFC 7662 and RFC 8693 write it (space-separated), or a list (`scp`, as some providers do).
  private static func scopes(_ value: Any?) -> Set<String> {
    if let text = value as? String { return Set(text.split(separator: " ").map(String.init)) }
    return Set((value as? [String]) ?? [])
  }

  struct IntrospectionFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
  }
}
