import Crypto
import Foundation
import XCTest

@testable import PorticoProxy

/// `extauth` with API keys and Basic credentials on a running gateway: keys from Secrets (by label and by
/// name, in the clear or as their SHA-256), the identity upstream in place of what the client sent, headers
/// from the key's Secret, 401 with a challenge and 403, `booleanExpr`, inheritance and `disable`, a key
/// revoked while traffic runs, and no key in `config_dump`.
final class ExtAuthTests: XCTestCase {
  var gateway: TestGateway!

  static let aliceKey = "k-alice-0123456789"
  static let bobKey = "k-bob-9876543210"
  static let carolKey = "k-carol-portal-issued"

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in Self.manifests(echo: gateway.port("echo"), revokeBob: false) },
      watch: true)
  }

  override func tearDown() async throws { await gateway.stop() }

  static func secret(_ name: String, labels: String = "{team: infra}", data: String) -> String {
    """
    apiVersion: v1
    kind: Secret
    type: extauth.solo.io/apikey
    metadata: {name: \(name), namespace: apps, labels: \(labels)}
    stringData: \(data)
    ---

    """
  }

  static func manifests(echo: Int, revokeBob: Bool) -> String {
    let carolDigest = SHA256.hash(data: Array(carolKey.utf8)).map { String(format: "%02x", $0) }.joined()
    return gatewayManifest() + staticDestination("echo", ports: [echo])
      + secret("alice", data: "{api-key: \(aliceKey), email: alice@example.com, plan: gold}")
      + (revokeBob ? "" : secret("bob", data: "{api-key: \(bobKey)}"))
      + secret("carol", labels: "{}", data: "{api-key-sha256: \(carolDigest), plan: silver}")
        + """
        apiVersion: enterprise.gloo.solo.io/v1
        kind: AuthConfig
        metadata: {name: keys, namespace: apps}
        spec:
          configs:
          - apiKeyAuth:
              labelSelector: {team: infra}
              apiKeySecretRefs: [{name: carol}]
              headersFromMetadata:
                x-user-email: {name: email}
                x-plan: {name: plan, required: true}
        ---
        apiVersion: enterprise.gloo.solo.io/v1
        kind: AuthConfig
        metadata: {name: staff, namespace: apps}
        spec:
          configs:
          - basicAuth:
              realm: staff
              apr:
                users:
                  dana: {salt: TYiryv0/, hashedPassword: 5CkRcqhZ6Ul0mrX7a5bep/}
                  erin: {hashedPassword: "$2b$04$tXC0l74UJzdXTfEF0jhE0exWkPe0pTXzCBx58NltiUBpRteaFUoJ."}
        ---
        apiVersion: portico.dev/v1
        kind: AuthConfig
        metadata: {name: either, namespace: apps}
        spec:
          configs:
          - {name: key, apiKeyAuth: {apiKeySecretRefs: [{name: alice}], headerName: x-api-key}}
          - {name: password, basicAuth: {apr: {users: {dana: {salt: TYiryv0/, hashedPassword: 5CkRcqhZ6Ul0mrX7a5bep/}}}}}
          booleanExpr: key || password
        ---
        apiVersion: portico.dev/v1
        kind: RateLimitServerConfig
        metadata: {name: plans, namespace: apps}
        spec: {raw: {descriptors: [{key: plan, value: gold, rateLimit: {unit: DAY, requestsPerUnit: 1}}]}}
        ---

        """
      + virtualHost(
        "auth.test",
        options: "  options: {trafficPolicy: {extauth: {configRef: {name: keys}}}}",
        routes: """
            - matchers: [{uri: {prefix: /open}}]
              options: {extauth: {disable: true}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /staff}}]
              options: {extauth: {configRef: {name: staff}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /either}}]
              options: {extauth: {configRef: {name: either}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /limited}}]
              options:
                rateLimit:
                  ratelimitServerConfigSelector: {}
                  raw: {rateLimits: [{actions: [{requestHeaders: {headerName: x-plan, descriptorKey: plan}}]}]}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /missing}}]
              options: {extauth: {configRef: {name: nowhere}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func get(_ path: String, _ headers: [(String, String)] = []) async throws -> TestResponse {
    try await send(.GET, gateway.base + path, host: "auth.test", headers: headers)
  }

  private func basic(_ user: String, _ password: String) -> (String, String) {
    ("authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
  }

  func testAKeyFromASecretLetsItsOwnerInUnderItsName() async throws {
    let response = try await get("/api", [("api-key", Self.aliceKey), ("x-user-id", "mallory")])
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(
      response.upstreamHeader("x-user-id"), ["alice"], "the identity replaces what the client sent")
    XCTAssertEqual(response.upstreamHeader("x-user-email"), ["alice@example.com"])
    XCTAssertEqual(response.upstreamHeader("x-plan"), ["gold"])
  }

  func testAKeyKeptOnlyAsItsDigestWorksToo() async throws {
    let response = try await get("/api", [("api-key", Self.carolKey)])
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(response.upstreamHeader("x-user-id"), ["carol"])
    XCTAssertNil(response.upstreamHeader("x-user-email"), "an optional field the Secret lacks is left out")
    let forged = try await get("/api", [("api-key", Self.carolKey), ("x-user-email", "forged@example.com")])
    XCTAssertNil(forged.upstreamHeader("x-user-email"), "a header the step sets never comes from the client")
  }

  func testMissingOrWrongKeysGet401AndARequiredFieldMissingGets403() async throws {
    let missing = try await get("/api")
    XCTAssertEqual(missing.status, 401)
    XCTAssertEqual(missing.headers["www-authenticate"].first, "API-Key header=\"api-key\"")
    let wrong = try await get("/api", [("api-key", Self.aliceKey + "x")])
    XCTAssertEqual(wrong.status, 401)
    let spoofed = try await get("/api", [("x-user-id", "alice")])
    XCTAssertEqual(spoofed.status, 401, "an identity header is not a credential")
    // Bob's Secret has no plan, which this API requires.
    let unplanned = try await get("/api", [("api-key", Self.bobKey)])
    XCTAssertEqual(unplanned.status, 403)
    let log = await gateway.accessLog()
    XCTAssertTrue(log.contains { ($0["flags"] as? String)?.contains("UAEX") == true }, "\(log)")
  }

  func testBasicCredentialsAreCheckedAgainstAnAPR1Hash() async throws {
    let good = try await get("/staff", [basic("dana", "secret123")])
    XCTAssertEqual(good.status, 200, good.body)
    XCTAssertEqual(good.upstreamHeader("x-user-id"), ["dana"])
    let again = try await get("/staff", [basic("dana", "secret123")])
    XCTAssertEqual(again.status, 200, "a credential that passed is remembered, not trusted blindly")
    for (user, password) in [("dana", "secret124"), ("dana", ""), ("eve", "secret123")] {
      let refused = try await get("/staff", [basic(user, password)])
      XCTAssertEqual(refused.status, 401, "\(user):\(password)")
      XCTAssertEqual(refused.headers["www-authenticate"].first, "Basic realm=\"staff\", charset=\"UTF-8\"")
    }
    let bcrypt = try await get("/staff", [basic("erin", "secret123")])
    XCTAssertEqual(bcrypt.status, 200, "a bcrypt hash, checked off the event loop: \(bcrypt.body)")
    XCTAssertEqual(bcrypt.upstreamHeader("x-user-id"), ["erin"])
    let bcryptAgain = try await get("/staff", [basic("erin", "secret123")])
    XCTAssertEqual(bcryptAgain.status, 200)
    let bcryptWrong = try await get("/staff", [basic("erin", "secret124")])
    XCTAssertEqual(bcryptWrong.status, 401)
    let keyInstead = try await get("/staff", [("api-key", Self.aliceKey)])
    XCTAssertEqual(keyInstead.status, 401, "a route's own AuthConfig replaces the virtual host's")
  }

  func testABooleanExpressionLetsEitherStepPass() async throws {
    let byKey = try await get("/either", [("x-api-key", Self.aliceKey)])
    XCTAssertEqual(byKey.status, 200, byKey.body)
    let byPassword = try await get("/either", [basic("dana", "secret123")])
    XCTAssertEqual(byPassword.status, 200, byPassword.body)
    let neither = try await get("/either", [("x-api-key", Self.bobKey)])
    XCTAssertEqual(neither.status, 401)
  }

  /// Rate limits run after auth and read the headers it set: a plan from the key's Secret is what counts,
  /// not the plan a client claims.
  func testRateLimitsCountThePlanAuthSetNotTheOneTheClientSent() async throws {
    let first = try await get("/limited", [("api-key", Self.aliceKey), ("x-plan", "silver")])
    XCTAssertEqual(first.status, 200, first.body)
    XCTAssertEqual(first.upstreamHeader("x-plan"), ["gold"])
    let second = try await get("/limited", [("api-key", Self.aliceKey), ("x-plan", "silver")])
    XCTAssertEqual(second.status, 429, "alice's gold plan allows one a day, whatever she sends")
    for _ in 0..<3 {
      let silver = try await get("/limited", [("api-key", Self.carolKey), ("x-plan", "gold")])
      XCTAssertEqual(silver.status, 200, "carol's silver plan has no limit here")
    }
    let anonymous = try await get("/limited", [("x-plan", "silver")])
    XCTAssertEqual(anonymous.status, 401, "auth answers before the limit counts")
  }

  func testDisabledRoutesAreOpenAndAMissingAuthConfigNeverLetsTrafficThrough() async throws {
    let open = try await get("/open")
    XCTAssertEqual(open.status, 200)
    let missing = try await get("/missing", [("api-key", Self.aliceKey)])
    XCTAssertEqual(missing.status, 500, "replaced as an invalid route, not served without auth")
  }

  func testARevokedKeyStopsWorkingWithinASecondWhileTrafficRuns() async throws {
    let before = try await get("/api", [("api-key", Self.bobKey), ("x-plan", "ignored")])
    XCTAssertEqual(before.status, 403, "bob is known (his Secret lacks a plan)")
    try gateway.write(Self.manifests(echo: gateway.port("echo"), revokeBob: true))
    let written = ContinuousClock.now
    var status = 0
    while ContinuousClock.now - written < .seconds(3) {
      status = try await get("/api", [("api-key", Self.bobKey)]).status
      let alice = try await get("/api", [("api-key", Self.aliceKey)]).status
      XCTAssertEqual(alice, 200, "other keys keep working through the reload")
      if status == 401 { break }
      try await Task.sleep(for: .milliseconds(20))
    }
    XCTAssertEqual(status, 401)
    XCTAssertLessThan(ContinuousClock.now - written, .seconds(1))
  }

  func testNoKeyReachesTheConfigDumpAndMetricsCountOutcomes() async throws {
    _ = try await get("/api", [("api-key", Self.aliceKey)])
    _ = try await get("/api")
    let admin = "http://127.0.0.1:\(gateway.adminPort)"
    let dump = try await send(.GET, admin + "/config_dump", host: "admin").body
    XCTAssertTrue(dump.contains("apps/keys"), "the route names its AuthConfig")
    for secret in [Self.aliceKey, Self.bobKey, Self.carolKey, "alice@example.com", "5CkRcqhZ6Ul0mrX7a5bep"] {
      XCTAssertFalse(dump.contains(secret), secret)
    }
    let metrics = try await send(.GET, admin + "/stats/prometheus", host: "admin").body
    XCTAssertTrue(
      metrics.contains(#"portico_extauth_requests_total{config="apps/keys",outcome="allowed"} 1"#), metrics)
    XCTAssertTrue(
      metrics.contains(#"portico_extauth_requests_total{config="apps/keys",outcome="denied"} 1"#), metrics)
  }
}
