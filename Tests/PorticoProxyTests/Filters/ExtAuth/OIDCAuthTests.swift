import AsyncHTTPClient
import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// `oauth2.oidcAuthorizationCode` against a real OpenID Connect provider (PyPI's `oidc-provider-mock`), with
/// a client that follows the redirects by hand as a browser would: sign in, the callback, the upstream with
/// the ID token, renewal with the refresh token, logout; and what an attacker tries: a tampered state, a
/// replayed code, a token for another nonce, forged and altered session cookies.
final class OIDCAuthTests: XCTestCase {
  var provider: PythonService!
  var gateway: TestGateway!
  /// Where the application is, as the provider and the browser see it: requests to it go to the gateway.
  static let app = "http://app.test"

  /// Keeps the sessions of `sessions.test`.
  var redis: Process!
  var redisPort = 0

  override func setUp() async throws {
    // Tokens live 12 s: a session is renewed once fewer than 10 s remain.
    provider = try await PythonService(arguments: [
      "-m", "oidc_provider_mock", "--token-max-age", "12", "--port",
    ])
    redisPort = try await closedPort()
    redis = Process()
    redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
    redis.arguments = [
      "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
    ]
    redis.standardOutput = FileHandle.nullDevice
    try redis.run()
    for _ in 0..<200 where (try? LoopbackSocket.connect(port: redisPort)).map({ close($0) }) == nil {
      try await Task.sleep(for: .milliseconds(25))
    }
    gateway = try await TestGateway(upstreams: ["echo"]) { [provider, redisPort] gateway in
      Self.manifests(
        echo: gateway.port("echo"), issuer: "http://127.0.0.1:\(provider!.port)", redisPort: redisPort)
    }
  }

  override func tearDown() async throws {
    await gateway?.stop()
    await provider?.stop()
    if let redis, redis.isRunning { kill(redis.processIdentifier, SIGKILL) }
  }

  static func manifests(echo: Int, issuer: String, redisPort: Int) -> String {
    gatewayManifest() + staticDestination("echo", ports: [echo])
      + """
      apiVersion: v1
      kind: Secret
      type: extauth.solo.io/oauth
      metadata: {name: shop-client, namespace: apps}
      stringData: {client-secret: shop-secret}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: session-key, namespace: apps}
      stringData: {key: 0123456789abcdef0123456789abcdef}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: sign-in, namespace: apps}
      spec:
        configs:
        - oauth2:
            oidcAuthorizationCode:
              appUrl: \(app)
              callbackPath: /callback
              clientId: shop
              clientSecretRef: {name: shop-client}
              issuerUrl: \(issuer)/
              scopes: [email]
              logoutPath: /logout
              afterLogoutUrl: \(app)/goodbye
              session:
                cipherConfig: {keyRef: {name: session-key}}
                cookieOptions: {notSecure: true}
              headers: {idTokenHeader: x-id-token, accessTokenHeader: authorization, useBearerSchemaForAuthorization: true}
      ---

      """
        + """
        apiVersion: enterprise.gloo.solo.io/v1
        kind: AuthConfig
        metadata: {name: shared-sessions, namespace: apps}
        spec:
          configs:
          - oauth2:
              oidcAuthorizationCode:
                appUrl: http://sessions.test
                callbackPath: /callback
                clientId: shop
                clientSecretRef: {name: shop-client}
                issuerUrl: \(issuer)
                logoutPath: /logout
                session:
                  redis: {options: {host: '127.0.0.1:\(redisPort)'}, keyPrefix: 'shop:'}
                  cookieOptions: {notSecure: true}
        ---

        """
      + virtualHost(
        "app.test",
        options: "  options: {trafficPolicy: {extauth: {configRef: {name: sign-in}}}}",
        routes: "    - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
      + virtualHost(
        "sessions.test",
        options: "  options: {trafficPolicy: {extauth: {configRef: {name: shared-sessions}}}}",
        routes: "    - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
  }

  // MARK: - Sessions in Redis

  private func redisKeys() throws -> [String] {
    try Shell.run("redis-cli -p \(redisPort) --raw KEYS 'shop:*'").split(separator: "\n").map(String.init)
  }

  private func sessions(_ path: String, cookie: String? = nil) async throws -> TestResponse {
    try await send(
      .GET, gateway.base + path, host: "sessions.test", headers: cookie.map { [("cookie", $0)] } ?? [])
  }

  func testSessionsInRedisHoldOnlyAnIDInTheCookieAndEndEverywhereAtLogout() async throws {
    let first = try await sessions("/orders")
    XCTAssertEqual(first.status, 302, first.body)
    let signInCookie = try XCTUnwrap(Self.setCookies(first)["portico-sign-in"])
    let callback = try await signInAtProvider(try Self.location(first), as: "frank")
    let app = "http://sessions.test"
    XCTAssertTrue(callback.hasPrefix(app + "/callback?"), callback)
    // A session ID planted in the browser beforehand is never taken over.
    let planted = String(repeating: "p", count: 43)
    let back = try await sessions(
      String(callback.dropFirst(app.count)),
      cookie: "portico-sign-in=\(signInCookie); portico-session=\(planted)")
    XCTAssertEqual(back.status, 302, back.body)
    let id = try XCTUnwrap(Self.setCookies(back)["portico-session"])
    XCTAssertEqual(id.count, 43, "the cookie holds a random ID, not the session")
    XCTAssertNotEqual(id, planted)
    XCTAssertEqual(try redisKeys(), ["shop:" + id])
    let orders = try await sessions("/orders", cookie: "portico-session=\(id)")
    XCTAssertEqual(orders.status, 200, orders.body)
    XCTAssertEqual(orders.upstreamHeader("x-user-id"), ["frank"])
    let logout = try await sessions("/logout", cookie: "portico-session=\(id)")
    XCTAssertEqual(logout.status, 302)
    var remaining = try redisKeys()
    for _ in 0..<40 where !remaining.isEmpty {
      try await Task.sleep(for: .milliseconds(25))
      remaining = try redisKeys()
    }
    XCTAssertEqual(remaining, [], "the session is gone from the store")
    let replayed = try await sessions("/orders", cookie: "portico-session=\(id)")
    XCTAssertEqual(replayed.status, 302, "a copy of the cookie kept after logout opens nothing")
  }

  func testASessionStoreThatFailsAnswersStatusOnError() async throws {
    kill(redis.processIdentifier, SIGKILL)
    while redis.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    let answer = try await sessions("/orders", cookie: "portico-session=" + String(repeating: "a", count: 43))
    XCTAssertEqual(answer.status, 403, "auth fails closed: statusOnError")
  }

  // MARK: - A browser without a browser

  /// Sends a request to `url`: the application's URLs go to the gateway (with its host name), the
  /// provider's to the provider.
  private func visit(
    _ url: String, cookies: [String: String] = [:], method: HTTPMethod = .GET, form: [(String, String)]? = nil
  ) async throws -> TestResponse {
    var headers: [(String, String)] = []
    if !cookies.isEmpty {
      headers.append(
        ("cookie", cookies.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: "; ")))
    }
    var body: String?
    if let form {
      headers.append(("content-type", "application/x-www-form-urlencoded"))
      body = form.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        .joined(separator: "&")
    }
    if url.hasPrefix(Self.app) {
      return try await send(
        method, gateway.base + url.dropFirst(Self.app.count), host: "app.test", headers: headers, body: body)
    }
    let host = URL(string: url)!.host! + ":\(URL(string: url)!.port!)"
    return try await send(method, url, host: host, headers: headers, body: body)
  }

  private static func setCookies(_ response: TestResponse) -> [String: String] {
    var cookies: [String: String] = [:]
    for line in response.headers["set-cookie"] {
      let pair = line.split(separator: ";")[0]
      guard let equals = pair.firstIndex(of: "=") else { continue }
      cookies[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return cookies
  }

  private static func location(_ response: TestResponse) throws -> String {
    try XCTUnwrap(response.headers["location"].first, "a redirect: \(response.status) \(response.body)")
  }

  private static func query(_ url: String) -> [String: String] {
    var values: [String: String] = [:]
    for item in URLComponents(string: url)?.queryItems ?? [] { values[item.name] = item.value }
    return values
  }

  private struct SignInStart {
    let authorize: String
    let signInCookie: String
  }

  /// The gateway's answer to a person without a session, asking for `path`.
  private func startSignIn(_ path: String) async throws -> SignInStart {
    let first = try await visit(Self.app + path)
    XCTAssertEqual(first.status, 302, first.body)
    let cookie = try XCTUnwrap(Self.setCookies(first)["portico-sign-in"])
    return SignInStart(authorize: try Self.location(first), signInCookie: cookie)
  }

  /// The provider's sign-in page, answered as `user`: where it sends the browser back.
  private func signInAtProvider(_ authorize: String, as user: String) async throws -> String {
    let page = try await visit(authorize)
    XCTAssertEqual(page.status, 200, page.body)
    let answer = try await visit(authorize, method: .POST, form: [("sub", user)])
    XCTAssertEqual(answer.status, 302, answer.body)
    return try Self.location(answer)
  }

  /// The whole sign-in: the session cookie it leaves.
  private func signIn(as user: String, to path: String = "/orders") async throws -> String {
    let start = try await startSignIn(path)
    let callback = try await signInAtProvider(start.authorize, as: user)
    let back = try await visit(callback, cookies: ["portico-sign-in": start.signInCookie])
    XCTAssertEqual(back.status, 302, back.body)
    XCTAssertEqual(try Self.location(back), Self.app + path, "back where the person was going")
    let cookies = Self.setCookies(back)
    XCTAssertEqual(cookies["portico-sign-in"], "", "the sign-in cookie is cleared")
    return try XCTUnwrap(cookies["portico-session"])
  }

  // MARK: - The flow

  func testSignInReachesTheUpstreamWithTheIDTokenAndLogoutEndsTheSession() async throws {
    let start = try await startSignIn("/orders?page=2")
    let authorize = Self.query(start.authorize)
    XCTAssertTrue(start.authorize.hasPrefix("http://127.0.0.1:\(provider.port)/oauth2/authorize?"))
    XCTAssertEqual(authorize["client_id"], "shop")
    XCTAssertEqual(authorize["redirect_uri"], Self.app + "/callback")
    XCTAssertEqual(authorize["response_type"], "code")
    XCTAssertEqual(authorize["scope"], "openid email")
    XCTAssertEqual(authorize["code_challenge_method"], "S256")
    XCTAssertEqual(authorize["code_challenge"]?.count, 43)
    XCTAssertNotNil(authorize["nonce"])
    XCTAssertEqual(authorize["state"]?.count, 43)

    let callback = try await signInAtProvider(start.authorize, as: "alice")
    XCTAssertEqual(Self.query(callback)["state"], authorize["state"])
    let back = try await visit(callback, cookies: ["portico-sign-in": start.signInCookie])
    XCTAssertEqual(back.status, 302, back.body)
    XCTAssertEqual(try Self.location(back), Self.app + "/orders?page=2")
    let session = try XCTUnwrap(Self.setCookies(back)["portico-session"])
    let code = try XCTUnwrap(Self.query(callback)["code"])
    let log = await gateway.accessLog()
    XCTAssertFalse(log.isEmpty)
    XCTAssertFalse("\(log)".contains(code), "the code never reaches the access log")
    let attributes = back.headers["set-cookie"].first { $0.hasPrefix("portico-session=") } ?? ""
    XCTAssertTrue(attributes.contains("HttpOnly") && attributes.contains("SameSite=Lax"), attributes)

    let orders = try await visit(Self.app + "/orders?page=2", cookies: ["portico-session": session])
    XCTAssertEqual(orders.status, 200, orders.body)
    XCTAssertEqual(orders.upstreamHeader("x-user-id"), ["alice"])
    let idToken = try XCTUnwrap(orders.upstreamHeader("x-id-token")?.first)
    let claims = try XCTUnwrap(JWTToken(idToken[...])?.claims)
    XCTAssertEqual(claims["sub"] as? String, "alice")
    XCTAssertEqual(claims["aud"] as? String ?? (claims["aud"] as? [String])?.first, "shop")
    XCTAssertTrue(orders.upstreamHeader("authorization")?.first?.hasPrefix("Bearer ") == true)

    let logout = try await visit(Self.app + "/logout", cookies: ["portico-session": session])
    XCTAssertEqual(logout.status, 302)
    let endSession = try Self.location(logout)
    XCTAssertTrue(endSession.hasPrefix("http://127.0.0.1:\(provider.port)/oauth2/end_session?"), endSession)
    XCTAssertEqual(Self.query(endSession)["id_token_hint"], idToken)
    XCTAssertEqual(Self.query(endSession)["post_logout_redirect_uri"], Self.app + "/goodbye")
    XCTAssertEqual(Self.setCookies(logout)["portico-session"], "", "the session cookie is cleared")
  }

  func testAnExpiringSessionIsRenewedWithItsRefreshToken() async throws {
    let session = try await signIn(as: "bob")
    // Fewer than 10 s of the token's 12 remain after 3 s.
    try await Task.sleep(for: .seconds(3))
    let renewed = try await visit(Self.app + "/orders", cookies: ["portico-session": session])
    XCTAssertEqual(renewed.status, 200, renewed.body)
    XCTAssertEqual(renewed.upstreamHeader("x-user-id"), ["bob"])
    let fresh = try XCTUnwrap(Self.setCookies(renewed)["portico-session"], "the renewed session's cookie")
    XCTAssertNotEqual(fresh, session)
    let later = try await visit(Self.app + "/orders", cookies: ["portico-session": fresh])
    XCTAssertEqual(later.status, 200)
    XCTAssertTrue(later.headers["set-cookie"].isEmpty, "a live session is not renewed")
  }

  // MARK: - Attacks

  func testATamperedStateIsRefused() async throws {
    let start = try await startSignIn("/orders")
    let callback = try await signInAtProvider(start.authorize, as: "mallory")
    var parts = URLComponents(string: callback)!
    parts.queryItems = parts.queryItems!.map {
      $0.name == "state" ? URLQueryItem(name: "state", value: "forged") : $0
    }
    let tampered = try await visit(parts.string!, cookies: ["portico-sign-in": start.signInCookie])
    XCTAssertEqual(tampered.status, 403)
    XCTAssertNil(Self.setCookies(tampered)["portico-session"])
    let withoutCookie = try await visit(callback)
    XCTAssertEqual(withoutCookie.status, 403, "a callback without the browser's sign-in cookie")
  }

  func testAReplayedCodeIsRefused() async throws {
    let start = try await startSignIn("/orders")
    let callback = try await signInAtProvider(start.authorize, as: "carol")
    let first = try await visit(callback, cookies: ["portico-sign-in": start.signInCookie])
    XCTAssertEqual(first.status, 302)
    XCTAssertNotNil(Self.setCookies(first)["portico-session"])
    let replayed = try await visit(callback, cookies: ["portico-sign-in": start.signInCookie])
    XCTAssertEqual(replayed.status, 401, "the provider refuses a code used once")
    XCTAssertNil(Self.setCookies(replayed)["portico-session"])
  }

  func testAnIDTokenForAnotherNonceIsRefused() async throws {
    let start = try await startSignIn("/orders")
    // The same sign-in, but the provider is asked for a token with a nonce of the attacker's choosing.
    var parts = URLComponents(string: start.authorize)!
    parts.queryItems = parts.queryItems!.map {
      $0.name == "nonce" ? URLQueryItem(name: "nonce", value: "attacker") : $0
    }
    let callback = try await signInAtProvider(parts.string!, as: "dave")
    let back = try await visit(callback, cookies: ["portico-sign-in": start.signInCookie])
    XCTAssertEqual(back.status, 401)
    XCTAssertNil(Self.setCookies(back)["portico-session"])
  }

  func testForgedAndAlteredSessionCookiesSendThePersonToSignIn() async throws {
    let session = try await signIn(as: "erin")
    let forged = try await visit(Self.app + "/orders", cookies: ["portico-session": "eyJzdWIiOiJhZG1pbiJ9"])
    XCTAssertEqual(forged.status, 302, "no session: sign in")
    var bytes = Array(session.utf8)
    bytes[bytes.count / 2] =
      bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    let altered = try await visit(
      Self.app + "/orders", cookies: ["portico-session": String(decoding: bytes, as: UTF8.self)])
    XCTAssertEqual(altered.status, 302)
    let moved = try await visit(Self.app + "/orders", cookies: ["portico-sign-in": session])
    XCTAssertEqual(moved.status, 302, "a session sealed for one cookie does not open as another")
    let genuine = try await visit(Self.app + "/orders", cookies: ["portico-session": session])
    XCTAssertEqual(genuine.status, 200)
  }
}
