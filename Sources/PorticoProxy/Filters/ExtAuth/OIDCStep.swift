import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import PorticoRedis
import PorticoTranslate

/// `oauth2.oidcAuthorizationCode`: OpenID Connect's authorization code flow, with the session kept in a
/// cookie the gateway seals (`SessionSeal`).
/// - A request with a live session passes, with the ID and access tokens in the configured headers and the
///   token's subject as the identity. An expired one is renewed with its refresh token (the new cookie goes
///   back on the response), or else the person signs in again.
/// - Without one, the browser is sent to the provider with a fresh `state`, `nonce` and PKCE challenge, kept
///   in a sealed cookie of their own for ten minutes.
/// - At `callbackPath` the `state` must match that cookie; the code is exchanged at the token endpoint with
///   the PKCE verifier; the ID token must be signed by the provider's keys, name it as issuer and the client
///   as audience, be in date, and carry the nonce. Then the session cookie is set and the browser goes back
///   to where it was (a path on the application, never another site).
/// - At `logoutPath` the session cookie is cleared and the browser goes to the provider's end-session
///   endpoint, then `afterLogoutUrl`.
struct OIDCStep: AuthStep {
  private let check: ExtAuthConfig.OIDCCheck
  private let provider: OIDCProvider
  private let seal: SessionSeal
  private let sessionCookie: String
  private let signInCookie: String
  private let sessions: Sessions

  /// Where sessions are kept: sealed in the cookie itself, or in Redis under a random ID the cookie holds.
  private enum Sessions {
    case cookie
    case redis(RedisCommandClient, keyPrefix: String)
  }
  private let timeout: TimeAmount
  private static let signInLifetime: Int64 = 600
  /// A session is renewed this long before its ID token expires, so a request never carries a token
  /// about to lapse.
  private static let renewalMargin: Int64 = 10

  /// What the session cookie holds.
  struct Session: Codable {
    var idToken: String
    var accessToken: String?
    var refreshToken: String?
    /// When the ID token expires, in seconds since 1970.
    var expires: Int64
    var subject: String?
  }

  /// What the sign-in cookie holds while the browser is at the provider.
  struct SignIn: Codable {
    var state: String
    var nonce: String
    var verifier: String
    /// The path and query the person asked for.
    var returnTo: String
    var issued: Int64
  }

  init(_ check: ExtAuthConfig.OIDCCheck, configID: String, timeout: TimeAmount) {
    self.check = check
    self.timeout = timeout
    provider = OIDCProvider.shared(issuer: check.issuerURL)
    seal = SessionSeal(
      keys: check.sessionKeys.isEmpty ? [SessionSeal.processKey(for: configID)] : check.sessionKeys)
    sessionCookie = check.cookie.sessionName
    if case .redis(let address, let prefix) = check.sessionStore {
      sessions = .redis(RedisCommandClient.shared(address: address), keyPrefix: prefix)
    } else {
      sessions = .cookie
    }
    signInCookie = check.cookie.prefix + "portico-sign-in"
  }

  var replacedHeaders: [String] { [check.idTokenHeader, check.accessTokenHeader].compactMap { $0 } }
  var addsResponseHeaders: Bool { true }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    let now = Int64(Date().timeIntervalSince1970)
    let path = call.request.path
    if path == check.callbackPath {
      // The code and state are credentials while they last: never in the access log.
      call.queryParametersHiddenFromLogs += ["code", "state"]
      callback(call, at: now, done)
      return nil
    }
    guard case .redis(let redis, let prefix) = sessions else {
      let sealed = Self.cookie(sessionCookie, in: call)
      return proceed(
        with: sealed.flatMap { seal.open($0, as: sessionCookie, Session.self) }, call, at: now, done)
    }
    guard let value = sessionID(in: call) else { return proceed(with: nil, call, at: now, done) }
    let loop = call.loop.eventLoop
    let step = self
    let resume = NIOLoopBound(
      { (session: Session?) in
        if let outcome = step.proceed(with: session, call, at: now, done) { done(outcome) }
      },
      eventLoop: loop)
    let failed = NIOLoopBound(done, eventLoop: loop)
    redis.execute(["GET", prefix + value], on: loop, timeout: timeout).whenComplete { result in
      switch result {
      case .success(.bulk(let bytes?)):
        resume.value(try? JSONDecoder().decode(Session.self, from: Data(bytes.readableBytesView)))
      case .success: resume.value(nil)
      case .failure(let error): failed.value(.failed(reason: "the session store failed: \(error)"))
      }
    }
    return nil
  }

  /// What the request's session (if any) comes to: through, renewed, signed out, or sent to sign in.
  private func proceed(
    with session: Session?, _ call: FilterCall, at now: Int64, _ done: @escaping (AuthOutcome) -> Void
  ) -> AuthOutcome? {
    if let logoutPath = check.logoutPath, call.request.path == logoutPath {
      logout(session, call, done)
      return nil
    }
    if let session {
      if session.expires > now + Self.renewalMargin { return allowed(session) }
      if check.allowsRefreshing, let refreshToken = session.refreshToken {
        renew(session, with: refreshToken, call, at: now, done)
        return nil
      }
    }
    signIn(call, at: now, done)
    return nil
  }

  // MARK: - The flow's steps

  private func allowed(_ session: Session, setting cookie: String? = nil) -> AuthOutcome {
    var headers: [AuthHeader] = []
    if let name = check.idTokenHeader { headers.append(AuthHeader(name: name, value: session.idToken)) }
    if let name = check.accessTokenHeader, let token = session.accessToken {
      headers.append(AuthHeader(name: name, value: check.bearerAccessToken ? "Bearer \(token)" : token))
    }
    let response = cookie.map { [AuthHeader(name: "set-cookie", value: $0, append: true)] } ?? []
    return .allowed(identity: session.subject, headers: headers, responseHeaders: response)
  }

  /// Sends the browser to the provider, remembering where it was going.
  private func signIn(_ call: FilterCall, at now: Int64, _ done: @escaping (AuthOutcome) -> Void) {
    let target = String(call.request.originForm)
    let attempt = SignIn(
      state: Self.randomToken(), nonce: Self.randomToken(), verifier: Self.randomToken(),
      // Only a path of this application: a target such as `//elsewhere` would leave it.
      returnTo: target.hasPrefix("/") && !target.hasPrefix("//") ? target : "/", issued: now)
    let check = check
    let signInCookie = signInCookie
    guard let sealed = seal.seal(attempt, as: signInCookie) else {
      return done(.failed(reason: "the sign-in state could not be sealed"))
    }
    whenEndpoints(call, done) { endpoints in
      var parameters = [
        ("response_type", "code"), ("client_id", check.clientID), ("redirect_uri", self.redirectURI),
        ("scope", check.scopes.joined(separator: " ")), ("state", attempt.state), ("nonce", attempt.nonce),
        ("code_challenge", Self.challenge(for: attempt.verifier)), ("code_challenge_method", "S256"),
      ]
      parameters += check.authorizationParameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
      let separator = endpoints.authorization.contains("?") ? "&" : "?"
      return Self.redirect(
        to: endpoints.authorization + separator + OAuthForm.encoded(parameters),
        cookies: [self.cookie(signInCookie, sealed, maxAge: Int(Self.signInLifetime))])
    }
  }

  /// The provider sent the browser back: the code becomes tokens, the tokens a session.
  private func callback(_ call: FilterCall, at now: Int64, _ done: @escaping (AuthOutcome) -> Void) {
    let query = call.request.query
    let attempt = Self.cookie(signInCookie, in: call).flatMap { seal.open($0, as: signInCookie, SignIn.self) }
    guard let attempt, now - attempt.issued < Self.signInLifetime, now >= attempt.issued,
      let state = Self.parameter("state", in: query),
      constantTimeEqual(Array(state.utf8), Array(attempt.state.utf8))
    else {
      return done(.denied(status: 403, challenge: nil, body: "sign-in state does not match\n"))
    }
    guard let code = Self.parameter("code", in: query) else {
      // The provider refused (`error=access_denied`, say).
      return done(.denied(status: 401, challenge: nil, body: "sign-in was not completed\n"))
    }
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let step = self
    whenEndpoints(call, done) { endpoints in
      step.tokens(
        at: endpoints,
        [
          ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", step.redirectURI),
          ("code_verifier", attempt.verifier),
        ], on: loop
      ) { tokens in
        guard let tokens else {
          return answer.value(.denied(status: 401, challenge: nil, body: "sign-in failed\n"))
        }
        step.verified(tokens, nonce: attempt.nonce, endpoints: endpoints, on: loop) { session in
          guard let session else {
            return answer.value(.denied(status: 401, challenge: nil, body: "sign-in failed\n"))
          }
          step.store(session, in: call, on: loop) { value in
            guard let value else { return answer.value(.failed(reason: "the session could not be kept")) }
            answer.value(
              Self.redirect(
                to: step.check.appURL + attempt.returnTo,
                cookies: [
                  step.cookie(step.sessionCookie, value, maxAge: step.check.cookie.maxAgeSeconds),
                  step.cookie(step.signInCookie, "", maxAge: 0),
                ]))
          }
        }
      }
      return nil
    }
  }

  /// An expired session renewed with its refresh token; a person whose session cannot be renewed signs in
  /// again.
  private func renew(
    _ session: Session, with refreshToken: String, _ call: FilterCall, at now: Int64,
    _ done: @escaping (AuthOutcome) -> Void
  ) {
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let step = self
    whenEndpoints(call, done) { endpoints in
      step.tokens(
        at: endpoints, [("grant_type", "refresh_token"), ("refresh_token", refreshToken)], on: loop
      ) {
        tokens in
        guard let tokens else { return step.signIn(call, at: now, answer.value) }
        step.verified(tokens, nonce: nil, endpoints: endpoints, on: loop, keeping: session) { renewed in
          guard let renewed else { return step.signIn(call, at: now, answer.value) }
          step.store(renewed, in: call, on: loop) { value in
            guard let value else { return answer.value(.failed(reason: "the session could not be kept")) }
            answer.value(
              step.allowed(
                renewed,
                setting: step.cookie(step.sessionCookie, value, maxAge: step.check.cookie.maxAgeSeconds)))
          }
        }
      }
      return nil
    }
  }

  /// Ends the session here and at the provider.
  private func logout(_ session: Session?, _ call: FilterCall, _ done: @escaping (AuthOutcome) -> Void) {
    let check = check
    let cleared = cookie(sessionCookie, "", maxAge: 0)
    if case .redis(let redis, let prefix) = sessions, let value = Self.cookie(sessionCookie, in: call) {
      // Ended everywhere: whichever gateway the browser reaches next finds no session.
      _ = redis.execute(["DEL", prefix + value], on: call.loop.eventLoop, timeout: timeout)
    }
    let after = check.afterLogoutURL ?? check.appURL + "/"
    whenEndpoints(call, done) { endpoints in
      guard let endSession = endpoints.endSession else { return Self.redirect(to: after, cookies: [cleared]) }
      var parameters = [("client_id", check.clientID), ("post_logout_redirect_uri", after)]
      if let session { parameters.insert(("id_token_hint", session.idToken), at: 0) }
      let separator = endSession.contains("?") ? "&" : "?"
      return Self.redirect(to: endSession + separator + OAuthForm.encoded(parameters), cookies: [cleared])
    }
  }

  // MARK: - Sessions

  /// Keeps `session` and hands back the session cookie's value: the sealed session, or the session's ID in
  /// Redis (the one the request carries when it is renewed, a new one at sign-in). Nil when Redis fails.
  private func store(
    _ session: Session, in call: FilterCall, on loop: EventLoop, _ done: @escaping (String?) -> Void
  ) {
    guard case .redis(let redis, let prefix) = sessions else {
      return done(seal.seal(session, as: sessionCookie))
    }
    // A session ID is made anew at sign-in, never taken from the browser (no fixation).
    let renewing = call.request.path == check.callbackPath ? nil : sessionID(in: call).map(String.init)
    let key = renewing ?? Self.randomToken()
    guard let json = try? JSONEncoder().encode(session) else { return done(nil) }
    let lifetime = check.cookie.maxAgeSeconds ?? 24 * 3600
    let answer = NIOLoopBound(done, eventLoop: loop)
    redis.execute(
      ["SET", prefix + key, String(decoding: json, as: UTF8.self), "EX", String(lifetime)], on: loop,
      timeout: timeout
    ).whenComplete { result in
      if case .success = result { answer.value(key) } else { answer.value(nil) }
    }
  }

  /// The session cookie's value when it has the shape of an ID the gateway makes (`randomToken`: 43
  /// base64url characters); nothing else is looked up in Redis.
  private func sessionID(in call: FilterCall) -> Substring? {
    guard let value = Self.cookie(sessionCookie, in: call), value.utf8.count == 43,
      value.utf8.allSatisfy(Base64URL.isAlphabet)
    else { return nil }
    return value
  }

  // MARK: - Talking to the provider

  /// Runs `body` with the provider's endpoints on the request's loop; its outcome, when it has one, is the
  /// step's (nil: `body` answers later itself).
  private func whenEndpoints(
    _ call: FilterCall, _ done: @escaping (AuthOutcome) -> Void,
    _ body: @escaping (OIDCProvider.Endpoints) -> AuthOutcome?
  ) {
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let work = NIOLoopBound(body, eventLoop: loop)
    provider.endpoints(on: loop).whenComplete { result in
      switch result {
      case .success(let endpoints): if let outcome = work.value(endpoints) { answer.value(outcome) }
      case .failure(let error): answer.value(.failed(reason: "\(error)"))
      }
    }
  }

  struct Tokens {
    let idToken: String?
    let accessToken: String?
    let refreshToken: String?
    /// Seconds the access token lives, when the provider says.
    let expiresIn: Int64?
  }

  /// A token request (RFC 6749 §4.1.3, §6): the client authenticates with HTTP Basic when it has a secret.
  private func tokens(
    at endpoints: OIDCProvider.Endpoints, _ grant: [(String, String)], on loop: EventLoop,
    _ done: @escaping (Tokens?) -> Void
  ) {
    var form = grant + [("client_id", check.clientID)]
    form += check.tokenParameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    let answer = NIOLoopBound(done, eventLoop: loop)
    guard
      let request = OAuthForm.request(
        to: endpoints.token, form, clientID: check.clientID, clientSecret: check.clientSecret)
    else { return done(nil) }
    AuthHTTPClient.client(connectTimeoutNanoseconds: 1_000_000_000)
      .execute(request: request, deadline: .now() + timeout).hop(to: loop).whenComplete { result in
        guard let json = OAuthForm.object(in: result) else { return answer.value(nil) }
        answer.value(
          Tokens(
            idToken: json["id_token"] as? String, accessToken: json["access_token"] as? String,
            refreshToken: json["refresh_token"] as? String,
            expiresIn: (json["expires_in"] as? NSNumber)?.int64Value))
      }
  }

  /// The session the tokens make, when the ID token holds (OpenID Connect Core §3.1.3.7): signed by one of
  /// the provider's keys (fetched again once for a key it has not seen), issued by it, for this client, in
  /// date, with the sign-in's nonce. A renewal may come without a new ID token: the old one is kept, valid
  /// for as long as the new access token.
  private func verified(
    _ tokens: Tokens, nonce: String?, endpoints: OIDCProvider.Endpoints, on loop: EventLoop,
    keeping previous: Session? = nil, _ done: @escaping (Session?) -> Void
  ) {
    guard let idToken = tokens.idToken else {
      // A renewal that brings only a new access token (OpenID Connect Core §12.2 lets a provider leave the ID
      // token out): the session lives as long as that token.
      guard let previous, let accessToken = tokens.accessToken, let lifetime = tokens.expiresIn else {
        return done(nil)
      }
      var renewed = previous
      renewed.accessToken = accessToken
      renewed.refreshToken = tokens.refreshToken ?? previous.refreshToken
      renewed.expires = Int64(Date().timeIntervalSince1970) + lifetime
      return done(renewed)
    }
    let check = check
    // Nil: fetch the provider's keys and decide again. A signature no key verifies asks for that too, at
    // most once a second: a provider that rotated keys may sign without a `kid`.
    func decide(_ keys: JWTKeySet?, mayFetch: Bool) -> Session?? {
      guard let token = JWTToken(idToken[...]) else { return .some(nil) }
      guard let keys else { return nil }
      let now = Int64(Date().timeIntervalSince1970)
      switch token.signature(checkedWith: keys) {
      case .valid: break
      case .unknownKey: return mayFetch ? nil : .some(nil)
      case .invalid:
        return mayFetch && endpoints.jwks.wantsFetch(at: now, unknownKey: true) ? nil : .some(nil)
      }
      guard token.claims["iss"] as? String == endpoints.issuer, token.audiences.contains(check.clientID),
        let expires = (token.claims["exp"] as? NSNumber)?.int64Value, expires > now
      else { return .some(nil) }
      if let nonce {
        guard let carried = token.claims["nonce"] as? String,
          constantTimeEqual(Array(carried.utf8), Array(nonce.utf8))
        else { return .some(nil) }
      }
      return .some(
        Session(
          idToken: idToken, accessToken: tokens.accessToken ?? previous?.accessToken,
          refreshToken: tokens.refreshToken ?? previous?.refreshToken, expires: expires,
          subject: token.claims["sub"] as? String))
    }
    if let decided = decide(endpoints.jwks.current().keys, mayFetch: true) { return done(decided) }
    let retry = NIOLoopBound(
      { done(decide(endpoints.jwks.current().keys, mayFetch: false) ?? nil) }, eventLoop: loop)
    endpoints.jwks.refresh(at: Int64(Date().timeIntervalSince1970), timeout: timeout) {
      loop.execute { retry.value() }
    }
  }

  // MARK: - Pieces

  private var redirectURI: String { check.appURL + check.callbackPath }

  private func cookie(_ name: String, _ value: String, maxAge: Int?) -> String {
    var text = "\(name)=\(value); Path=\(check.cookie.path)"
    if let maxAge { text += "; Max-Age=\(maxAge)" }
    if let domain = check.cookie.domain { text += "; Domain=\(domain)" }
    if check.cookie.httpOnly { text += "; HttpOnly" }
    if check.cookie.secure { text += "; Secure" }
    if let sameSite = check.cookie.sameSite { text += "; SameSite=\(sameSite)" }
    return text
  }

  private static func redirect(to location: String, cookies: [String]) -> AuthOutcome {
    .denied(
      status: 302, challenge: nil,
      headers: [AuthHeader(name: "location", value: location)]
        + cookies.map { AuthHeader(name: "set-cookie", value: $0, append: true) },
      body: "")
  }

  /// The value of the cookie `name` in the request's `Cookie` fields.
  static func cookie(_ name: String, in call: FilterCall) -> Substring? {
    let head = call.request.head
    for field in head.fields where head.name(of: field).equalsIgnoringASCIICase("cookie") {
      for pair in head.value(of: field).split(separator: ";") {
        let trimmed = pair.drop { $0 == " " }
        guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
        return trimmed[trimmed.index(after: equals)...]
      }
    }
    return nil
  }

  private static func parameter(_ name: String, in query: Substring) -> String? {
    QueryParameters.value(named: name, in: query).flatMap {
      String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
  }

  /// 256 random bits, base64url: state, nonce, PKCE verifier (RFC 7636 §4.1: 43 characters).
  private static func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
  }

  private static func challenge(for verifier: String) -> String {
    Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8))))
  }
}
