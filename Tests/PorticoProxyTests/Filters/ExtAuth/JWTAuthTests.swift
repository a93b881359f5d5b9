import Crypto
import CryptoExtras
import Foundation
import XCTest

@testable import PorticoProxy

/// A `jwt` step on a running gateway, with tokens minted here (RS256, ES256, HS256): valid ones pass with
/// their subject and claims upstream and the token removed, and each attack is refused: `alg: none`, an HMAC
/// made with the RSA public key, a `kid` not in the set, a token without `kid` against several keys,
/// expired and not-yet-valid tokens, the wrong issuer or audience, a changed payload. Keys rotate with the
/// manifest.
final class JWTAuthTests: XCTestCase {
  static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
  static let rotated = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
  static let ec = P256.Signing.PrivateKey()
  static let secret = SymmetricKey(data: Array("a shared secret of 32 bytes....!".utf8))
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in Self.manifests(echo: gateway.port("echo"), rotated: false) },
      watch: true)
  }

  override func tearDown() async throws { await gateway.stop() }

  static func base64URL(_ bytes: some DataProtocol) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
  }

  static func rsaJWK(_ key: _RSA.Signing.PrivateKey, kid: String?) -> String {
    let primitives = try! key.publicKey.getKeyPrimitives()
    let id = kid.map { #""kid": "\#($0)", "# } ?? ""
    return
      #"{"kty": "RSA", \#(id)"n": "\#(base64URL(primitives.modulus))", "e": "\#(base64URL(primitives.publicExponent))"}"#
  }

  static func manifests(echo: Int, rotated: Bool) -> String {
    let ecPoint = ec.publicKey.rawRepresentation
    let keys = [
      rsaJWK(rotated ? Self.rotated : rsa, kid: rotated ? "rsa-2" : "rsa-1"),
      #"{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": "\#(base64URL(ecPoint.prefix(32)))", "y": "\#(base64URL(ecPoint.suffix(32)))"}"#,
      #"{"kty": "oct", "kid": "hs-1", "alg": "HS256", "k": "\#(secret.withUnsafeBytes { base64URL(Array($0)) })"}"#,
    ]
    let jwks = #"{"keys": [\#(keys.joined(separator: ", "))]}"#
    return gatewayManifest() + staticDestination("echo", ports: [echo])
      + """
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: tokens, namespace: apps}
      spec:
        configs:
        - jwt:
            providers:
              idp:
                issuer: https://idp.test
                audiences: [shop]
                jwks: {local: {key: '\(jwks)'}}
                claimsToHeaders: [{claim: email, header: x-email}, {claim: org.id, header: x-org}, {claim: admin, header: x-admin}]
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: one-key, namespace: apps}
      spec:
        configs:
        - jwt:
            validationPolicy: ALLOW_MISSING
            providers:
              pem:
                keepToken: true
                jwks: {local: {key: '\(rsaJWK(rsa, kid: nil))'}}
      ---

      """
      + virtualHost(
        "jwt.test",
        routes: """
            - matchers: [{uri: {prefix: /one}}]
              options: {extauth: {configRef: {name: one-key}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - options: {extauth: {configRef: {name: tokens}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  enum Signer {
    case rs256(_RSA.Signing.PrivateKey)
    case es256(P256.Signing.PrivateKey)
    case hs256(SymmetricKey)
    case none
  }

  static func mint(_ signer: Signer, kid: String?, claims: [String: Any]) -> String {
    let alg: String
    switch signer {
    case .rs256: alg = "RS256"
    case .es256: alg = "ES256"
    case .hs256: alg = "HS256"
    case .none: alg = "none"
    }
    var header: [String: Any] = ["alg": alg, "typ": "JWT"]
    if let kid { header["kid"] = kid }
    let input =
      base64URL(try! JSONSerialization.data(withJSONObject: header)) + "."
      + base64URL(try! JSONSerialization.data(withJSONObject: claims))
    let data = Data(input.utf8)
    let signature: Data
    switch signer {
    case .rs256(let key):
      signature = try! key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
        .rawRepresentation
    case .es256(let key): signature = try! key.signature(for: data).rawRepresentation
    case .hs256(let key): signature = Data(HMAC<SHA256>.authenticationCode(for: data, using: key))
    case .none: signature = Data()
    }
    return input + "." + base64URL(signature)
  }

  static func claims(_ changes: [String: Any] = [:]) -> [String: Any] {
    let now = Int(Date().timeIntervalSince1970)
    var claims: [String: Any] = [
      "iss": "https://idp.test", "aud": ["shop", "other"], "sub": "alice", "exp": now + 600, "nbf": now - 10,
      "email": "alice@example.com", "org": ["id": "acme"], "admin": true,
    ]
    claims.merge(changes) { $1 }
    return claims
  }

  private func get(_ path: String = "/api", token: String?, headers: [(String, String)] = []) async throws
    -> TestResponse
  {
    try await send(
      .GET, gateway.base + path, host: "jwt.test",
      headers: (token.map { [("authorization", "Bearer " + $0)] } ?? []) + headers)
  }

  func testTokensOfEachAlgorithmPassWithTheirClaimsUpstream() async throws {
    for token in [
      Self.mint(.rs256(Self.rsa), kid: "rsa-1", claims: Self.claims()),
      Self.mint(.es256(Self.ec), kid: "ec-1", claims: Self.claims()),
      Self.mint(.hs256(Self.secret), kid: "hs-1", claims: Self.claims()),
    ] {
      let response = try await get(token: token, headers: [("x-user-id", "mallory"), ("x-email", "forged")])
      XCTAssertEqual(response.status, 200, response.body)
      XCTAssertEqual(response.upstreamHeader("x-user-id"), ["alice"])
      XCTAssertEqual(response.upstreamHeader("x-email"), ["alice@example.com"])
      XCTAssertEqual(response.upstreamHeader("x-org"), ["acme"], "a dotted claim reads nested objects")
      XCTAssertEqual(response.upstreamHeader("x-admin"), ["true"])
      XCTAssertNil(response.upstreamHeader("authorization"), "the token is not sent on")
      let again = try await get(token: token)
      XCTAssertEqual(again.status, 200, "a token that passed is remembered")
    }
    let lowercase = try await send(
      .GET, gateway.base + "/api", host: "jwt.test",
      headers: [("authorization", "bearer " + Self.mint(.es256(Self.ec), kid: "ec-1", claims: Self.claims()))]
    )
    XCTAssertEqual(lowercase.status, 200, "the scheme's name in any case")
    let schemeOnly = try await send(
      .GET, gateway.base + "/api", host: "jwt.test", headers: [("authorization", "Bearer ")])
    XCTAssertEqual(schemeOnly.status, 401)
    let withoutEmail = Self.mint(
      .es256(Self.ec), kid: "ec-1", claims: Self.claims().filter { $0.key != "email" })
    let forged = try await get(token: withoutEmail, headers: [("x-email", "forged@example.com")])
    XCTAssertEqual(forged.status, 200)
    XCTAssertNil(
      forged.upstreamHeader("x-email"), "a claim the token lacks leaves the header out, not the client's")
    let query = try await get(
      "/api?access_token=" + Self.mint(.es256(Self.ec), kid: "ec-1", claims: Self.claims()), token: nil)
    XCTAssertEqual(query.status, 200, "the access_token query parameter is read too")
  }

  func testEveryAttackIsRefused() async throws {
    let now = Int(Date().timeIntervalSince1970)
    let rsaPublicPEM = Self.rsa.publicKey.pemRepresentation
    var tampered = Self.mint(.rs256(Self.rsa), kid: "rsa-1", claims: Self.claims()).split(separator: ".").map(
      String.init)
    tampered[1] = Self.base64URL(try JSONSerialization.data(withJSONObject: Self.claims(["sub": "root"])))
    let attacks: [(String, String)] = [
      ("alg none", Self.mint(.none, kid: "rsa-1", claims: Self.claims())),
      (
        "HMAC with the RSA public key",
        Self.mint(.hs256(SymmetricKey(data: Array(rsaPublicPEM.utf8))), kid: "rsa-1", claims: Self.claims())
      ),
      ("kid not in the set", Self.mint(.rs256(Self.rsa), kid: "rsa-9", claims: Self.claims())),
      ("no kid, several keys", Self.mint(.rs256(Self.rsa), kid: nil, claims: Self.claims())),
      ("signed by another key", Self.mint(.rs256(Self.rotated), kid: "rsa-1", claims: Self.claims())),
      ("expired", Self.mint(.rs256(Self.rsa), kid: "rsa-1", claims: Self.claims(["exp": now - 120]))),
      ("not yet valid", Self.mint(.rs256(Self.rsa), kid: "rsa-1", claims: Self.claims(["nbf": now + 120]))),
      (
        "wrong issuer",
        Self.mint(.es256(Self.ec), kid: "ec-1", claims: Self.claims(["iss": "https://evil.test"]))
      ),
      ("wrong audience", Self.mint(.es256(Self.ec), kid: "ec-1", claims: Self.claims(["aud": "payments"]))),
      ("changed payload", tampered.joined(separator: ".")),
      ("not a JWT", "abc.def"),
    ]
    for (attack, token) in attacks {
      let response = try await get(token: token)
      XCTAssertEqual(response.status, 401, attack)
      XCTAssertEqual(
        response.headers["www-authenticate"].first, #"Bearer realm="portico", error="invalid_token""#, attack)
    }
    let missing = try await get(token: nil)
    XCTAssertEqual(missing.status, 401)
    XCTAssertEqual(missing.headers["www-authenticate"].first, #"Bearer realm="portico""#)
  }

  func testAOneKeySetTakesTokensWithoutKidAndAllowMissingLetsAnonymousIn() async throws {
    let token = Self.mint(.rs256(Self.rsa), kid: nil, claims: Self.claims())
    let signed = try await get("/one", token: token)
    XCTAssertEqual(signed.status, 200, signed.body)
    XCTAssertEqual(signed.upstreamHeader("authorization"), ["Bearer " + token], "keepToken sends it on")
    let anonymous = try await get("/one", token: nil)
    XCTAssertEqual(anonymous.status, 200, "ALLOW_MISSING")
    XCTAssertNil(anonymous.upstreamHeader("x-user-id"))
    let bad = try await get("/one", token: Self.mint(.rs256(Self.rotated), kid: nil, claims: Self.claims()))
    XCTAssertEqual(bad.status, 401, "ALLOW_MISSING still refuses a token that does not verify")
  }

  /// A token read from the query goes no further than a header token does, unless `keepToken` says so.
  func testATokenFromTheQueryIsTakenOutOfTheUpstreamTarget() async throws {
    let token = Self.mint(.rs256(Self.rsa), kid: "rsa-1", claims: Self.claims())
    let response = try await get("/api/items?page=2&access_token=\(token)&sort=name", token: nil)
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(response.json["path"] as? String, "/api/items")
    XCTAssertEqual(response.json["query"] as? String, "page=2&sort=name")
    XCTAssertEqual(response.upstreamHeader("x-user-id"), ["alice"])
    let only = try await get("/api/items?access_token=\(token)", token: nil)
    XCTAssertEqual(only.status, 200)
    XCTAssertEqual(only.json["query"] as? String, "", "no empty '?' left behind")
    let refused = try await get("/api/items?access_token=\(token)x&page=3", token: nil)
    XCTAssertEqual(refused.status, 401)
    let paths = await gateway.accessLog().compactMap { $0["path"] as? String }
    XCTAssertTrue(paths.contains("/api/items?page=2&sort=name"), "\(paths)")
    XCTAssertTrue(paths.contains("/api/items?page=3"), "a refused token is not logged either: \(paths)")
    XCTAssertFalse(paths.contains { $0.contains("access_token") }, "\(paths)")
  }

  func testRotatedKeysTakeEffectOnReload() async throws {
    let old = Self.mint(.rs256(Self.rsa), kid: "rsa-1", claims: Self.claims())
    let new = Self.mint(.rs256(Self.rotated), kid: "rsa-2", claims: Self.claims())
    let before = try await get(token: old)
    XCTAssertEqual(before.status, 200)
    try gateway.write(Self.manifests(echo: gateway.port("echo"), rotated: true))
    let written = ContinuousClock.now
    var statuses: (old: Int, new: Int) = (0, 0)
    while ContinuousClock.now - written < .seconds(3) {
      statuses = (try await get(token: old).status, try await get(token: new).status)
      if statuses == (401, 200) { break }
      try await Task.sleep(for: .milliseconds(20))
    }
    XCTAssertEqual(statuses.old, 401, "the retired key's tokens stop passing, cached or not")
    XCTAssertEqual(statuses.new, 200)
  }
}
