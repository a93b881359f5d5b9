import Crypto
import Foundation
import XCTest

@testable import PorticoProxy

/// `oauth2.accessTokenValidation`: bearer access tokens checked by an RFC 7662 introspection endpoint of
/// the test's own (Python's `http.server`) and by their signature as JWTs, with required scopes; tokens
/// that passed are not asked about again while they are trusted.
final class AccessTokenTests: XCTestCase {
  var gateway: TestGateway!
  var endpoint: PythonService!
  static let secret = SymmetricKey(data: Data("access-token-test-secret-32-byte".utf8))

  /// `full-token` is active with the orders scopes, `narrow-token` only reads, `expired-token` expired a
  /// minute ago; anything else is inactive. Checks the client's Basic credentials, and counts calls.
  static let introspectionScript = """
    import base64, http.server, json, sys, time, urllib.parse

    calls = 0

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.reply(200, {"calls": calls})

        def do_POST(self):
            global calls
            calls += 1
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("content-length") or 0)).decode())
            expected = "Basic " + base64.b64encode(b"gateway:gateway-secret").decode()
            if self.headers.get("authorization") != expected:
                return self.reply(401, {"error": "invalid_client"})
            token = form.get("token", [""])[0]
            now = int(time.time())
            answers = {
                "full-token": {"active": True, "sub": "svc-orders", "scope": "orders:read orders:write", "exp": now + 600},
                "narrow-token": {"active": True, "sub": "svc-reports", "scope": "orders:read", "exp": now + 600},
                "expired-token": {"active": True, "sub": "svc-old", "scope": "orders:read orders:write", "exp": now - 60},
            }
            self.reply(200, answers.get(token, {"active": False}))

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """

  override func setUp() async throws {
    endpoint = try await PythonService(script: Self.introspectionScript)
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { [endpoint] gateway in
        Self.manifests(echo: gateway.port("echo"), introspection: Self.introspectionURL(endpoint!.port))
      }, watch: true)
  }

  static func introspectionURL(_ port: Int) -> String { "http://127.0.0.1:\(port)/introspect" }

  override func tearDown() async throws {
    await gateway?.stop()
    await endpoint?.stop()
  }

  static func manifests(echo: Int, introspection: String, signedScope: String = "orders:read") -> String {
    let key = JWTAuthTests.base64URL(secret.withUnsafeBytes { Array($0) })
    return gatewayManifest() + staticDestination("echo", ports: [echo])
      + """
      apiVersion: v1
      kind: Secret
      metadata: {name: introspection-client, namespace: apps}
      stringData: {client-secret: gateway-secret}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: introspected, namespace: apps}
      spec:
        configs:
        - oauth2:
            accessTokenValidation:
              introspection:
                introspectionUrl: \(introspection)
                clientId: gateway
                clientSecretRef: {name: introspection-client}
              requiredScopes: {scope: ["orders:write"]}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: signed, namespace: apps}
      spec:
        configs:
        - oauth2:
            accessTokenValidation:
              jwt:
                issuer: https://idp.test
                localJwks: {inlineString: '{"keys": [{"kty": "oct", "kid": "hs-1", "alg": "HS256", "k": "\(key)"}]}'}
              requiredScopes: {scope: ["\(signedScope)"]}
      ---

      """
      + virtualHost(
        "api.test",
        routes: """
            - matchers: [{uri: {prefix: /signed}}]
              options: {extauth: {configRef: {name: signed}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - options: {extauth: {configRef: {name: introspected}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func get(_ path: String, token: String?) async throws -> TestResponse {
    try await send(
      .GET, gateway.base + path, host: "api.test",
      headers: token.map { [("authorization", "Bearer \($0)")] } ?? [])
  }

  private func introspections() async throws -> Int {
    let answer = try await send(.GET, "http://127.0.0.1:\(endpoint.port)/calls", host: "127.0.0.1")
    return answer.json["calls"] as? Int ?? -1
  }

  func testIntrospectedTokensPassWithTheirScopesAndAreTrustedForAWhile() async throws {
    let full = try await get("/orders", token: "full-token")
    XCTAssertEqual(full.status, 200, full.body)
    XCTAssertEqual(full.upstreamHeader("x-user-id"), ["svc-orders"])
    let asked = try await introspections()
    XCTAssertEqual(asked, 1)
    for _ in 0..<3 {
      let again = try await get("/orders", token: "full-token")
      XCTAssertEqual(again.status, 200)
    }
    let askedAfter = try await introspections()
    XCTAssertEqual(askedAfter, 1, "a token that passed is trusted, not asked about again")
    let narrow = try await get("/orders", token: "narrow-token")
    XCTAssertEqual(narrow.status, 403, "active, but without orders:write")
    XCTAssertTrue(narrow.headers["www-authenticate"].first?.contains("insufficient_scope") == true)
  }

  func testInactiveExpiredAndMissingTokensAre401() async throws {
    let inactive = try await get("/orders", token: "made-up")
    XCTAssertEqual(inactive.status, 401)
    XCTAssertTrue(inactive.headers["www-authenticate"].first?.contains("invalid_token") == true)
    let expired = try await get("/orders", token: "expired-token")
    XCTAssertEqual(expired.status, 401, "past its expiry, whatever the endpoint says")
    let missing = try await get("/orders", token: nil)
    XCTAssertEqual(missing.status, 401)
  }

  private func jwt(scope: String, issuer: String = "https://idp.test", expiresIn: Int = 600) -> String {
    let now = Int(Date().timeIntervalSince1970)
    return JWTAuthTests.mint(
      .hs256(Self.secret), kid: "hs-1",
      claims: ["iss": issuer, "sub": "svc-jwt", "scope": scope, "exp": now + expiresIn])
  }

  func testSignedTokensAreCheckedByTheirSignatureIssuerExpiryAndScopes() async throws {
    let good = try await get("/signed", token: jwt(scope: "orders:read"))
    XCTAssertEqual(good.status, 200, good.body)
    XCTAssertEqual(good.upstreamHeader("x-user-id"), ["svc-jwt"])
    let scopeless = try await get("/signed", token: jwt(scope: "profile"))
    XCTAssertEqual(scopeless.status, 403)
    let foreign = try await get("/signed", token: jwt(scope: "orders:read", issuer: "https://other.test"))
    XCTAssertEqual(foreign.status, 401)
    let expired = try await get("/signed", token: jwt(scope: "orders:read", expiresIn: -60))
    XCTAssertEqual(expired.status, 401)
    let forged = try await get("/signed", token: String(jwt(scope: "orders:read").dropLast(4)) + "AAAA")
    XCTAssertEqual(forged.status, 401)
    let asked = try await introspections()
    XCTAssertEqual(asked, 0, "signed tokens need no endpoint")
  }

  /// Tokens trusted under one configuration are checked again under the next: a token that passed before
  /// the required scope changed does not pass after it.
  func testTrustedTokensAreCheckedAgainAfterTheSettingsChange() async throws {
    let token = jwt(scope: "orders:read")
    let before = try await get("/signed", token: token)
    XCTAssertEqual(before.status, 200, before.body)
    try gateway.write(
      Self.manifests(
        echo: gateway.port("echo"), introspection: Self.introspectionURL(endpoint.port),
        signedScope: "orders:admin"))
    var status = 200
    for _ in 0..<100 where status == 200 {
      try await Task.sleep(for: .milliseconds(20))
      status = try await get("/signed", token: token).status
    }
    XCTAssertEqual(status, 403, "the new settings apply to a token trusted under the old ones")
  }
}
