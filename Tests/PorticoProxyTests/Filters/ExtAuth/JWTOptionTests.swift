import Crypto
import CryptoExtras
import Foundation
import XCTest

@testable import PorticoProxy

/// Gloo's shape for JWT: providers in a virtual host's `jwt` option, inherited by its routes, turned off by a
/// route's `jwt: {disable: true}`, and run before a route's AuthConfig (both must pass).
final class JWTOptionTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"], manifests: { gateway in Self.manifests(echo: gateway.port("echo")) })
  }

  override func tearDown() async throws { await gateway.stop() }

  static func manifests(echo: Int) -> String {
    let key = JWTAuthTests.rsaJWK(JWTAuthTests.rsa, kid: "rsa-1")
    return gatewayManifest() + staticDestination("echo", ports: [echo])
      + """
      apiVersion: v1
      kind: Secret
      type: extauth.solo.io/apikey
      metadata: {name: ops, namespace: apps}
      stringData: {api-key: ops-key-123}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: keys, namespace: apps}
      spec:
        configs:
        - apiKeyAuth: {apiKeySecretRefs: [{name: ops}]}
      ---

      """
      + virtualHost(
        "gloo-jwt.test",
        options: """
            options:
              trafficPolicy:
                jwt:
                  providers:
                    idp:
                      issuer: https://idp.test
                      jwks: {local: {key: '\(key)'}}
                      claimsToHeaders: [{claim: email, header: x-email}]
          """,
        routes: """
            - matchers: [{uri: {prefix: /public}}]
              options: {jwt: {disable: true}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /ops}}]
              options: {extauth: {configRef: {name: keys}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func get(_ path: String, token: String?, headers: [(String, String)] = []) async throws
    -> TestResponse
  {
    try await send(
      .GET, gateway.base + path, host: "gloo-jwt.test",
      headers: (token.map { [("authorization", "Bearer " + $0)] } ?? []) + headers)
  }

  func testTheVirtualHostsProvidersCheckEveryRouteUnlessARouteDisablesThem() async throws {
    let token = JWTAuthTests.mint(.rs256(JWTAuthTests.rsa), kid: "rsa-1", claims: JWTAuthTests.claims())
    let good = try await get("/api", token: token)
    XCTAssertEqual(good.status, 200, good.body)
    XCTAssertEqual(good.upstreamHeader("x-user-id"), ["alice"])
    XCTAssertEqual(good.upstreamHeader("x-email"), ["alice@example.com"])
    let missing = try await get("/api", token: nil)
    XCTAssertEqual(missing.status, 401)
    let forged = try await get("/api", token: token + "x")
    XCTAssertEqual(forged.status, 401)
    let open = try await get("/public", token: nil)
    XCTAssertEqual(open.status, 200, "jwt: {disable: true} on the route")
  }

  func testARoutesAuthConfigRunsAfterTheTokenAndBothMustPass() async throws {
    let token = JWTAuthTests.mint(.rs256(JWTAuthTests.rsa), kid: "rsa-1", claims: JWTAuthTests.claims())
    let both = try await get("/ops", token: token, headers: [("api-key", "ops-key-123")])
    XCTAssertEqual(both.status, 200, both.body)
    let tokenOnly = try await get("/ops", token: token)
    XCTAssertEqual(tokenOnly.status, 401)
    let keyOnly = try await get("/ops", token: nil, headers: [("api-key", "ops-key-123")])
    XCTAssertEqual(keyOnly.status, 401)
  }
}
