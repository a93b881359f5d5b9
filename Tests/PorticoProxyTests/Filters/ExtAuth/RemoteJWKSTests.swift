import Crypto
import CryptoExtras
import Foundation
import XCTest

@testable import PorticoProxy

/// `jwks.remote` against a JWKS served by Python's `http.server`: the first request waits for the keys, a
/// rotation is picked up when a token names a key the set lacks, tokens of unknown keys cannot make the
/// gateway fetch more than once a second, and keys that cannot be fetched fail the check with
/// `statusOnError` instead of letting anyone in.
final class RemoteJWKSTests: XCTestCase {
  var gateway: TestGateway!
  var keyServer: PythonService!
  var directory: URL!

  override func setUp() async throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try publish([JWTAuthTests.rsaJWK(JWTAuthTests.rsa, kid: "rsa-1")])
    keyServer = try await PythonService(
      arguments: ["-m", "http.server", "--bind", "127.0.0.1"], in: directory)
    let gone = try await closedPort()
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { [keyServer] gateway in
        Self.manifests(echo: gateway.port("echo"), keys: keyServer!.port, gone: gone)
      })
  }

  override func tearDown() async throws {
    await gateway?.stop()
    await keyServer?.stop()
    try? FileManager.default.removeItem(at: directory)
  }

  private func publish(_ keys: [String]) throws {
    try #"{"keys": [\#(keys.joined(separator: ", "))]}"#.write(
      to: directory.appendingPathComponent("jwks.json"), atomically: true, encoding: .utf8)
  }

  static func manifests(echo: Int, keys: Int, gone: Int) -> String {
    func authConfig(_ name: String, port: Int) -> String {
      """
      apiVersion: enterprise.gloo.solo.io/v1
      kind: AuthConfig
      metadata: {name: \(name), namespace: apps}
      spec:
        configs:
        - jwt:
            providers:
              idp:
                issuer: https://idp.test
                jwks: {remote: {url: "http://127.0.0.1:\(port)/jwks.json", cacheDuration: 600s}}
      ---

      """
    }
    return gatewayManifest() + staticDestination("echo", ports: [echo])
      + authConfig("remote", port: keys) + authConfig("unreachable", port: gone)
      + virtualHost(
        "jwks.test",
        routes: """
            - matchers: [{uri: {prefix: /unreachable}}]
              options: {extauth: {configRef: {name: unreachable}}, extauthSettings: {requestTimeout: 500ms}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - options: {extauth: {configRef: {name: remote}}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func get(_ path: String = "/api", token: String) async throws -> TestResponse {
    try await send(
      .GET, gateway.base + path, host: "jwks.test", headers: [("authorization", "Bearer " + token)])
  }

  private var fetches: Int { keyServer.log.components(separatedBy: "GET /jwks.json").count - 1 }

  func testKeysAreFetchedOnceAndARotationIsPickedUpByItsNewKid() async throws {
    let old = JWTAuthTests.mint(.rs256(JWTAuthTests.rsa), kid: "rsa-1", claims: JWTAuthTests.claims())
    let first = try await get(token: old)
    XCTAssertEqual(first.status, 200, first.body)
    XCTAssertEqual(first.upstreamHeader("x-user-id"), ["alice"])
    for _ in 0..<5 {
      let again = try await get(token: old)
      XCTAssertEqual(again.status, 200)
    }
    XCTAssertEqual(fetches, 1, "kept for cacheDuration: \(keyServer.log)")

    try publish([JWTAuthTests.rsaJWK(JWTAuthTests.rotated, kid: "rsa-2")])
    try await Task.sleep(for: .milliseconds(1100))
    let new = JWTAuthTests.mint(.rs256(JWTAuthTests.rotated), kid: "rsa-2", claims: JWTAuthTests.claims())
    let rotated = try await get(token: new)
    XCTAssertEqual(rotated.status, 200, "an unknown kid fetches the keys again: \(rotated.body)")
    XCTAssertEqual(fetches, 2)
    let retired = try await get(token: old)
    XCTAssertEqual(retired.status, 401, "the retired key's tokens stop passing, cached or not")
  }

  func testTokensOfUnknownKeysFetchAtMostOnceASecond() async throws {
    let good = JWTAuthTests.mint(.rs256(JWTAuthTests.rsa), kid: "rsa-1", claims: JWTAuthTests.claims())
    let first = try await get(token: good)
    XCTAssertEqual(first.status, 200)
    let forged = JWTAuthTests.mint(.rs256(JWTAuthTests.rotated), kid: "nobody", claims: JWTAuthTests.claims())
    let started = ContinuousClock.now
    var statuses: [Int] = []
    for _ in 0..<30 { statuses.append(try await get(token: forged).status) }
    let seconds = Int((ContinuousClock.now - started).components.seconds) + 1
    XCTAssertEqual(Set(statuses), [401])
    XCTAssertLessThanOrEqual(fetches, 1 + seconds + 1, "at most one fetch a second: \(keyServer.log)")
  }

  func testKeysThatCannotBeFetchedFailTheCheckClosed() async throws {
    let token = JWTAuthTests.mint(.rs256(JWTAuthTests.rsa), kid: "rsa-1", claims: JWTAuthTests.claims())
    let response = try await get("/unreachable", token: token)
    XCTAssertEqual(response.status, 403, "statusOnError, not a pass and not a 401 for a good token")
  }
}
