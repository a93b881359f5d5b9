import Foundation
import XCTest

@testable import PorticoProxy

/// `ldap` against a `slapd` started here, seeded with users and groups: a member of an allowed group passes
/// under their name, a wrong password is 401, a user in no allowed group 403, an empty password is refused
/// without binding, names with DN and filter metacharacters cannot reach another entry, and with slapd
/// gone the check fails with `statusOnError`.
final class LDAPAuthTests: XCTestCase {
  var gateway: TestGateway!
  var slapd: SlapdServer!

  override func setUp() async throws {
    slapd = try await SlapdServer(
      users: [("alice", "alice-password"), ("bob", "bob-password"), ("carol", "carol-password")],
      groups: [("developers", ["alice"]), ("auditors", ["carol"])])
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { [slapd] gateway in Self.manifests(echo: gateway.port("echo"), ldap: slapd!.port) })
  }

  override func tearDown() async throws {
    await gateway?.stop()
    await slapd?.stop()
  }

  static func manifests(echo: Int, ldap: Int) -> String {
    gatewayManifest() + staticDestination("echo", ports: [echo])
      + """
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: directory, namespace: apps}
      spec:
        configs:
        - ldap:
            address: 127.0.0.1:\(ldap)
            userDnTemplate: uid=%s,ou=people,\(SlapdServer.suffix)
            membershipAttributeName: memberOf
            allowedGroups: ["\(SlapdServer.groupDN("developers"))", "CN=Auditors, OU=Groups, DC=example, DC=org"]
            pool: {maxSize: 2, initialSize: 1}
      ---

      """
      + virtualHost(
        "ldap.test",
        options:
          "  options: {trafficPolicy: {extauth: {configRef: {name: directory}}, extauthSettings: {requestTimeout: 1s, statusOnError: 503}}}",
        routes: """
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func get(_ user: String?, _ password: String = "") async throws -> TestResponse {
    let headers =
      user.map { [("authorization", "Basic " + Data("\($0):\(password)".utf8).base64EncodedString())] } ?? []
    return try await send(.GET, gateway.base + "/reports", host: "ldap.test", headers: headers)
  }

  func testAMemberOfAnAllowedGroupPassesUnderTheirName() async throws {
    let alice = try await get("alice", "alice-password")
    XCTAssertEqual(alice.status, 200, alice.body)
    XCTAssertEqual(alice.upstreamHeader("x-user-id"), ["alice"])
    let carol = try await get("carol", "carol-password")
    XCTAssertEqual(carol.status, 200, "group DNs compare without regard to case or spaces")
    for _ in 0..<5 {
      let again = try await get("alice", "alice-password")
      XCTAssertEqual(again.status, 200, "pooled connections bind again for each request")
    }
  }

  func testWrongPasswordsAre401AndUsersOutsideTheGroups403() async throws {
    let wrong = try await get("alice", "bob-password")
    XCTAssertEqual(wrong.status, 401)
    XCTAssertEqual(wrong.headers["www-authenticate"].first, "Basic realm=\"portico\", charset=\"UTF-8\"")
    let outsider = try await get("bob", "bob-password")
    XCTAssertEqual(outsider.status, 403, "bob binds but is in no allowed group")
    let unknown = try await get("mallory", "anything")
    XCTAssertEqual(unknown.status, 401)
    let none = try await get(nil)
    XCTAssertEqual(none.status, 401)
  }

  /// LDAP takes a simple bind with an empty password as anonymous, which succeeds: it must never be tried.
  func testAnEmptyPasswordIsRefusedBeforeAnyBind() async throws {
    let empty = try await get("alice", "")
    XCTAssertEqual(empty.status, 401)
  }

  func testNamesWithMetacharactersCannotReachAnotherEntry() async throws {
    for user in [
      "*", "alice,ou=people", "alice)(uid=*", "uid=alice,ou=people,dc=example,dc=org", "alice\\",
      "#alice", "alice+cn=x",
    ] {
      let response = try await get(user, "alice-password")
      XCTAssertEqual(response.status, 401, "user name \(user)")
    }
  }

  func testTheDNIsEscapedAsRFC4514Says() {
    XCTAssertEqual(LDAPStep.escaped("alice"), "alice")
    XCTAssertEqual(LDAPStep.escaped("a,b"), "a\\2Cb")
    XCTAssertEqual(LDAPStep.escaped(" #x+y=z\\\""), "\\20\\23x\\2By\\3Dz\\5C\\22")
    XCTAssertEqual(LDAPStep.escaped("é"), "\\C3\\A9")
  }

  func testWithTheServerGoneTheCheckFailsWithStatusOnError() async throws {
    let before = try await get("alice", "alice-password")
    XCTAssertEqual(before.status, 200)
    await slapd.stop()
    let after = try await get("alice", "alice-password")
    XCTAssertEqual(after.status, 503, "statusOnError, never a pass")
    let log = await gateway.accessLog()
    XCTAssertTrue(log.contains { ($0["flags"] as? String)?.contains("UAEX") == true }, "\(log)")
  }
}
