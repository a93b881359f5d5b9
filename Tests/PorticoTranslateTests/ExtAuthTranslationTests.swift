import Crypto
import PorticoAPI
import XCTest

@testable import PorticoTranslate

/// `options.extauth` resolved for the data plane: the AuthConfig its ref names, the keys of the Secrets
/// its API-key steps choose (digested, never in the clear), the settings in effect; an AuthConfig that is
/// missing, has errors or asks for a mode not enforced yet replaces the route.
final class ExtAuthTranslationTests: XCTestCase {
  private let resources = """
    apiVersion: enterprise.gloo.solo.io/v1
    kind: AuthConfig
    metadata: {name: keys, namespace: apps}
    spec:
      configs:
      - name: key
        apiKeyAuth: {labelSelector: {team: shop}, apiKeySecretRefs: [{name: listed}, {name: gone}]}
    ---
    apiVersion: enterprise.gloo.solo.io/v1
    kind: AuthConfig
    metadata: {name: tokens, namespace: apps}
    spec:
      configs: [{opaAuth: {modules: [{name: policy}], query: data.allow}}]
    ---
    apiVersion: v1
    kind: Secret
    type: extauth.solo.io/apikey
    metadata: {name: labelled, namespace: apps, labels: {team: shop}}
    stringData: {api-key: key-one, tier: gold}
    ---
    apiVersion: v1
    kind: Secret
    type: extauth.solo.io/apikey
    metadata: {name: elsewhere, namespace: other, labels: {team: shop}}
    stringData: {api-key: key-two}
    ---
    apiVersion: v1
    kind: Secret
    type: Opaque
    metadata: {name: opaque, namespace: apps, labels: {team: shop}}
    stringData: {api-key: key-three}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: listed, namespace: apps}
    stringData: {api-key-sha256: 0000000000000000000000000000000000000000000000000000000000000001}
    ---
    apiVersion: v1
    kind: Secret
    type: extauth.solo.io/apikey
    metadata: {name: twin, namespace: apps, labels: {team: shop}}
    stringData: {api-key: key-one}
    ---

    """

  private func translation(options: String, settings: String = "") -> Translation {
    translate(
      resources
        + host(
          "shop", domain: "shop.test",
          routes: """
              - name: guarded
                matchers: [{uri: {prefix: /}}]
                options: \(options)
                routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
            """))
  }

  func testTheKeysOfTheChosenSecretsAreDigestedAndTheSettingsApply() throws {
    let result = translation(
      options:
        "{extauth: {configRef: {name: keys}}, extauthSettings: {userIdHeader: X-Caller, statusOnError: 503, extauthzRef: {name: ext-auth-service}}}"
    )
    let auth = try XCTUnwrap(result.routes(of: "shop.test").first?.extauth)
    XCTAssertEqual(auth.id, "apps/keys")
    XCTAssertEqual(auth.userIdHeader, "x-caller")
    XCTAssertEqual(auth.statusOnError, 503)
    guard case .apiKey(let check) = auth.steps.first?.check else { return XCTFail("an API-key step") }
    XCTAssertEqual(check.headerName, "api-key")
    XCTAssertEqual(
      check.keys.map(\.identity), ["labelled", "listed"], "by label (right type, same namespace) and by name")
    XCTAssertEqual(check.keys[0].digest, Array(SHA256.hash(data: Array("key-one".utf8))))
    XCTAssertEqual(check.keys[0].metadata, ["tier": "gold"])
    XCTAssertEqual(
      check.keys[1].digest, Array(repeating: 0, count: 31) + [1], "a stored digest is read from hex")
    let warnings = try XCTUnwrap(result.status(.authConfig, "apps", "keys")).warnings.map(\.message)
    XCTAssertTrue(warnings.contains { $0.contains("apps/gone is not found") }, "\(warnings)")
    XCTAssertTrue(
      warnings.contains { $0.contains("apps/twin holds a key another Secret holds") }, "\(warnings)")
    let hostWarnings = try XCTUnwrap(result.status(.virtualHost, "apps", "shop")).warnings.map(\.message)
    XCTAssertTrue(hostWarnings.contains { $0.contains("extauthzRef has no effect") }, "\(hostWarnings)")
  }

  func testAMissingOrRefusedAuthConfigReplacesTheRoute() throws {
    for (name, reason) in [("nowhere", "is not found"), ("tokens", "has errors")] {
      let result = translation(options: "{extauth: {configRef: {name: \(name)}}}")
      let route = try XCTUnwrap(result.routes(of: "shop.test").first)
      XCTAssertEqual(route.directStatus, 500, name)
      XCTAssertNil(route.extauth)
      let errors = try XCTUnwrap(result.status(.virtualHost, "apps", "shop")).errors.map(\.message)
      XCTAssertTrue(errors.contains { $0.contains("AuthConfig apps/\(name) \(reason)") }, "\(errors)")
    }
    let tokens = try XCTUnwrap(translation(options: "{}").status(.authConfig, "apps", "tokens"))
    XCTAssertEqual(tokens.errors.map(\.path.description), ["spec.configs[0].opaAuth.modules[0]"])
    XCTAssertTrue(tokens.errors[0].message.contains("ConfigMap apps/policy is not found"), "\(tokens.errors)")
  }

  /// Routes that share an AuthConfig share its resolution: its Secrets are read, and its warnings
  /// reported, once.
  func testAnAuthConfigIsResolvedOncePerTranslation() throws {
    let result = translate(
      resources
        + host(
          "shop", domain: "shop.test",
          options: "  options: {trafficPolicy: {extauth: {configRef: {name: keys}}}}",
          routes: forward("a", "{uri: {prefix: /a}}") + "\n" + forward("b", "{uri: {prefix: /b}}")))
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.compactMap(\.extauth?.id), ["apps/keys", "apps/keys"])
    let warnings = try XCTUnwrap(result.status(.authConfig, "apps", "keys")).warnings
    XCTAssertEqual(warnings.filter { $0.message.contains("apps/gone") }.count, 1, "\(warnings)")
  }

  /// Filters are shared by equal configs: the hash leaves the keys out (cheap per route), equality keeps
  /// them (a revoked key makes a new filter).
  func testConfigsHashWithoutTheirKeysAndCompareWithThem() throws {
    let auth = try XCTUnwrap(
      translation(options: "{extauth: {configRef: {name: keys}}}").routes(of: "shop.test").first?.extauth)
    var fewer = auth
    guard case .apiKey(var check) = fewer.steps[0].check else { return XCTFail("an API-key step") }
    check.keys.removeLast()
    fewer.steps[0].check = .apiKey(check)
    XCTAssertEqual(auth.hashValue, fewer.hashValue)
    XCTAssertNotEqual(auth, fewer)
  }

  func testDisabledOrAbsentMeansNoCheck() {
    XCTAssertNil(translation(options: "{extauth: {disable: true}}").routes(of: "shop.test").first?.extauth)
    XCTAssertNil(translation(options: "{}").routes(of: "shop.test").first?.extauth)
  }

  func testTheResolvedConfigIsDumpedWithoutSecrets() throws {
    let auth = try XCTUnwrap(
      translation(options: "{extauth: {configRef: {name: keys}}}").routes(of: "shop.test").first?.extauth)
    let dumped = String(decoding: try JSONEncoder().encode(auth), as: UTF8.self)
    XCTAssertTrue(dumped.contains("\"keys\":2"), dumped)
    XCTAssertFalse(dumped.contains("gold"), dumped)
    XCTAssertFalse(dumped.contains("digest"), dumped)
  }

  /// The client secret and session keys are read from their Secrets and never encoded; a missing Secret
  /// replaces the routes, and sessions without a key of the user's get a warning.
  func testOIDCReadsItsSecretsAndNeverShowsThem() throws {
    func oidc(_ name: String, secret: String, cipher: String?) -> String {
      """
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: \(name), namespace: apps}
      spec:
        configs:
        - oauth2:
            oidcAuthorizationCode:
              appUrl: https://shop.test
              clientId: shop
              clientSecretRef: {name: \(secret)}
              issuerUrl: https://idp.test
              \(cipher.map { "session: {cipherConfig: {keyRef: {name: \($0)}}}" } ?? "")
      ---

      """
    }
    let secrets = """
      apiVersion: v1
      kind: Secret
      metadata: {name: client, namespace: apps}
      stringData: {client-secret: very-secret-value}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: short-key, namespace: apps}
      stringData: {key: too-short}
      ---

      """
    let result = translate(
      secrets + oidc("good", secret: "client", cipher: nil) + oidc("lost", secret: "nope", cipher: nil)
        + oidc("weak", secret: "client", cipher: "short-key")
        + host(
          "shop", domain: "shop.test",
          routes: forward("good", "{uri: {prefix: /good}}").replacingOccurrences(
            of: "routeAction", with: "options: {extauth: {configRef: {name: good}}}\n    routeAction")
            + "\n"
            + forward("lost", "{uri: {prefix: /lost}}").replacingOccurrences(
              of: "routeAction", with: "options: {extauth: {configRef: {name: lost}}}\n    routeAction")))
    let routes = result.routes(of: "shop.test")
    let good = try XCTUnwrap(routes.first { $0.name.contains("good") }?.extauth)
    guard case .oidc(let check) = good.steps.first?.check else { return XCTFail("an oauth2 step") }
    XCTAssertEqual(check.clientSecret, "very-secret-value")
    XCTAssertEqual(check.callbackPath, "/oauth-gloo-callback", "Gloo's default")
    XCTAssertEqual(check.scopes, ["openid"])
    let encoded = String(decoding: try JSONEncoder().encode(good), as: UTF8.self)
    XCTAssertFalse(encoded.contains("very-secret-value"), encoded)
    let warnings = try XCTUnwrap(result.status(.authConfig, "apps", "good")).warnings.map(\.message)
    XCTAssertTrue(warnings.contains { $0.contains("sessions end when it restarts") }, "\(warnings)")
    XCTAssertEqual(routes.first { $0.name.contains("lost") }?.directStatus, 500)
    let lost = try XCTUnwrap(result.status(.authConfig, "apps", "lost")).errors.map(\.message)
    XCTAssertTrue(lost.contains { $0.contains("Secret apps/nope is not found") }, "\(lost)")
    let weak = try XCTUnwrap(result.status(.authConfig, "apps", "weak")).errors.map(\.message)
    XCTAssertTrue(weak.contains { $0.contains("32-byte key") }, "\(weak)")
  }
}
