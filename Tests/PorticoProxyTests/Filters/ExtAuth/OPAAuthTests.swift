import AsyncHTTPClient
import Crypto
import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// `opaAuth` on a running gateway, with Rego policies evaluated by rego-cpp: decisions over the method,
/// path and headers of Gloo's input document, over the claims of a token an earlier `jwt` step verified,
/// and policies that do not compile or whose ConfigMap is missing, which replace their routes.
final class OPAAuthTests: XCTestCase {
  var gateway: TestGateway!
  static let secret = SymmetricKey(data: Data("opa-test-secret-of-32-bytes-long".utf8))

  /// Written from OPA's documentation of Rego and Gloo's of its input: GET under /catalog for anyone, any
  /// method for an admin header, POST /orders for a token with the orders:write scope.
  static let policy = """
    package shop.authz

    default allow := false

    allow if {
      input.http_request.method == "GET"
      startswith(input.http_request.path, "/catalog")
    }

    allow if {
      input.check_request.attributes.request.http.headers["x-role"] == "admin"
    }

    allow if {
      input.http_request.method == "PUT"
      json.unmarshal(input.http_request.body).approved == true
    }

    allow if {
      [_, claims, _] := io.jwt.decode(input.state.jwt)
      claims.scope == "orders:write"
      input.http_request.method == "POST"
    }
    """

  override func setUp() async throws {
    RegoForTests.located
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      Self.manifests(echo: gateway.port("echo"))
    }
  }

  override func tearDown() async throws { await gateway?.stop() }

  static func manifests(echo: Int) -> String {
    let key = JWTAuthTests.base64URL(secret.withUnsafeBytes { Array($0) })
    let indented = policy.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
      .joined(separator: "\n")
    return gatewayManifest() + staticDestination("echo", ports: [echo])
      + """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: shop-policy, namespace: apps}
      data:
        policy.rego: |
      \(indented)
      ---
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: broken-policy, namespace: apps}
      data:
        broken.rego: |
          package broken

          allow if { input.x ==
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: policy, namespace: apps}
      spec:
        configs:
        - opaAuth: {modules: [{name: shop-policy}], query: "data.shop.authz.allow == true"}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: token-then-policy, namespace: apps}
      spec:
        configs:
        - jwt:
            providers:
              idp:
                issuer: https://idp.test
                jwks: {local: {key: '{"kty": "oct", "kid": "hs-1", "alg": "HS256", "k": "\(key)"}'}}
        - opaAuth: {modules: [{name: shop-policy}], query: "data.shop.authz.allow == true"}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: broken, namespace: apps}
      spec:
        configs:
        - opaAuth: {modules: [{name: broken-policy}], query: "data.broken.allow == true"}
      ---
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: unfound, namespace: apps}
      spec:
        configs:
        - opaAuth: {modules: [{name: no-such-policy}], query: "data.shop.authz.allow == true"}
      ---

      """
      + virtualHost(
        "opa.test",
        options: "  options: {trafficPolicy: {extauth: {configRef: {name: policy}}}}",
        routes: """
            - matchers: [{uri: {prefix: /orders}}]
              options: {extauth: {configRef: {name: token-then-policy}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /approvals}}]
              options: {extauthSettings: {requestBody: {maxRequestBytes: 1024}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /broken}}]
              options: {extauth: {configRef: {name: broken}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /unfound}}]
              options: {extauth: {configRef: {name: unfound}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func call(_ method: HTTPMethod, _ path: String, _ headers: [(String, String)] = []) async throws
    -> TestResponse
  {
    try await send(
      method, gateway.base + path, host: "opa.test", headers: headers, body: method == .POST ? "{}" : nil)
  }

  private func token(scope: String) -> String {
    let now = Int(Date().timeIntervalSince1970)
    return JWTAuthTests.mint(
      .hs256(Self.secret), kid: "hs-1",
      claims: ["iss": "https://idp.test", "sub": "alice", "scope": scope, "exp": now + 600])
  }

  func testThePolicyDecidesByMethodPathAndHeaders() async throws {
    let browse = try await call(.GET, "/catalog/shoes?size=42")
    XCTAssertEqual(browse.status, 200, browse.body)
    let change = try await call(.POST, "/catalog/shoes")
    XCTAssertEqual(change.status, 403, "a request the policy does not allow is forbidden")
    let elsewhere = try await call(.GET, "/admin/report")
    XCTAssertEqual(elsewhere.status, 403)
    let admin = try await call(.DELETE, "/admin/report", [("x-role", "admin")])
    XCTAssertEqual(admin.status, 200, "a header the check request carries")
    let prefixOnly = try await call(.GET, "/catalogue-of-secrets")
    XCTAssertEqual(prefixOnly.status, 200, "startswith, as the policy says, not a path segment match")
  }

  func testThePolicyReadsTheBodyWhenTheSettingsAskForIt() async throws {
    let approved = try await send(
      .PUT, gateway.base + "/approvals/7", host: "opa.test", body: #"{"approved": true}"#)
    XCTAssertEqual(approved.status, 200, approved.body)
    let pending = try await send(
      .PUT, gateway.base + "/approvals/7", host: "opa.test", body: #"{"approved": false}"#)
    XCTAssertEqual(pending.status, 403)
    let elsewhere = try await send(
      .PUT, gateway.base + "/admin", host: "opa.test", body: #"{"approved": true}"#)
    XCTAssertEqual(elsewhere.status, 403, "routes without requestBody show the policy no body")
  }

  func testThePolicyReadsTheClaimsOfTheTokenAnEarlierStepVerified() async throws {
    let writer = try await call(
      .POST, "/orders", [("authorization", "Bearer \(token(scope: "orders:write"))")])
    XCTAssertEqual(writer.status, 200, writer.body)
    let reader = try await call(
      .POST, "/orders", [("authorization", "Bearer \(token(scope: "orders:read"))")])
    XCTAssertEqual(reader.status, 403, "verified, but the policy refuses the scope")
    let forged = try await call(
      .POST, "/orders",
      [("authorization", "Bearer \(token(scope: "orders:write").dropLast(4))AAAA")])
    XCTAssertEqual(forged.status, 401, "the jwt step refuses a bad signature before the policy runs")
    let none = try await call(.POST, "/orders")
    XCTAssertEqual(none.status, 401)
  }

  func testPoliciesThatDoNotCompileOrCannotBeFoundReplaceTheirRoutes() async throws {
    let broken = try await call(.GET, "/broken")
    XCTAssertEqual(broken.status, 500, "an invalid route, never served without its policy")
    let unfound = try await call(.GET, "/unfound")
    XCTAssertEqual(unfound.status, 500)
    let served = try await call(.GET, "/catalog")
    XCTAssertEqual(served.status, 200, "the other routes serve")
  }

  /// `validate` names the manifest, the ConfigMap entry's line and the place in the module; a missing
  /// ConfigMap is named on the AuthConfig's field.
  func testValidationNamesWhereAPolicyDoesNotCompile() throws {
    let text = Self.manifests(echo: 1)
    let check = Translator().check(ManifestLoader().load(text: text, file: "opa.yaml"))
    let errors = check.diagnostics.filter { $0.severity == .error }
    let broken = try XCTUnwrap(errors.first { $0.message.contains("broken.rego") }, "\(errors)")
    XCTAssertEqual(broken.location?.file, "opa.yaml")
    let entryLine = text.split(separator: "\n", omittingEmptySubsequences: false)
      .firstIndex { $0.contains("broken.rego: |") }.map { $0 + 1 }
    XCTAssertEqual(broken.location?.line, entryLine, "the line of the ConfigMap entry")
    XCTAssertTrue(broken.message.contains("apps/broken-policy/broken.rego:3:"), broken.message)
    let unfound = try XCTUnwrap(
      errors.first { $0.message.contains("ConfigMap apps/no-such-policy is not found") })
    XCTAssertEqual(unfound.path.description, "spec.configs[0].opaAuth.modules[0]")
  }
}
