import AsyncHTTPClient
import Foundation
import NIOSSL
import XCTest

@testable import PorticoProxy

/// TLS termination end to end, checked with curl and openssl as clients: certificates chosen by SNI,
/// client certificates verified, protocol versions enforced, certificates reloaded, secrets kept secret.
final class TLSTests: XCTestCase {
  var certificates: TestCertificates!
  var gateway: TestGateway!

  override func setUp() async throws {
    let certificates = try TestCertificates()
    self.certificates = certificates
    try certificates.issue(
      "a", commonName: "a.tls.test", altNames: ["DNS:a.tls.test", "DNS:*.wild.tls.test"])
    try certificates.issue("b", commonName: "b.tls.test", altNames: ["DNS:b.tls.test", "DNS:v13.tls.test"])
    try certificates.issue("client", commonName: "client", altNames: ["DNS:client.tls.test"])
    try certificates.issue("stranger", commonName: "stranger", altNames: ["DNS:other.tls.test"])
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in (try? Self.manifests(certificates, echo: gateway.port("echo"))) ?? "" },
      watch: true)
  }

  override func tearDown() async throws {
    await gateway?.stop()
    certificates?.remove()
  }

  static func manifests(
    _ certificates: TestCertificates, echo: Int, aSecret: String? = nil, aMode: String = "SIMPLE"
  ) throws -> String {
    let handlers = """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: tls, namespace: gateways}
      spec:
        ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: test}}}]}]
        connectionHandlers:
        - connectionMatch: {serverNames: [a.tls.test, "*.wild.tls.test"]}
          connectionOptions: {sslConfig: {secretName: a-cert, tlsMode: \(aMode)}}
          http: {routeConfig: [{virtualHostSelector: {namespaces: ["*"], labels: {site: a}}}]}
        - connectionMatch: {serverNames: [b.tls.test]}
          connectionOptions: {sslConfig: {secretName: b-cert, tlsMode: MUTUAL, verifySubjectAltName: [client.tls.test]}}
          http: {routeConfig: [{virtualHostSelector: {namespaces: ["*"], labels: {site: b}}}]}
        - connectionMatch: {serverNames: [v13.tls.test]}
          connectionOptions: {sslConfig: {secretName: b-cert, tlsMode: SIMPLE, parameters: {minimumProtocolVersion: TLSv1_3}}}
          http: {routeConfig: [{virtualHostSelector: {namespaces: ["*"], labels: {site: b}}}]}
      ---

      """
    func host(_ name: String, site: String, domains: String, route: String) -> String {
      """
      apiVersion: portico.dev/v1
      kind: VirtualHost
      metadata: {name: \(name), namespace: apps, labels: {site: \(site)}}
      spec:
        domains: [\(domains)]
        routes:
        - \(route)
      ---

      """
    }
    let a = try aSecret ?? certificates.secret("a-cert", namespace: "gateways", certificate: "a")
    let b = try certificates.secret("b-cert", namespace: "gateways", certificate: "b", includeCA: true)
    return handlers + a + b
      + staticDestination("echo", ports: [echo])
      + host(
        "a", site: "a", domains: "\"*\"",
        route: "routeAction: {destinations: [{staticDestination: {name: echo}}]}")
      + host("b", site: "b", domains: "\"*\"", route: "directResponseAction: {status: 200, body: site-b}")
  }

  /// curl against the gateway as `name`, trusting the test CA; returns (exit status, body, http code).
  func curl(_ name: String, path: String = "/", options: String = "") throws -> (status: Int32, body: String)
  {
    let port = gateway.port
    let command =
      "curl -sS --max-time 5 --resolve \(name):\(port):127.0.0.1 --cacert \(certificates.path("ca.pem")) \(options) https://\(name):\(port)\(path)"
    do {
      return (0, try Shell.run(command))
    } catch let failure as Shell.Failure {
      return (failure.status, failure.output)
    }
  }

  /// The subject and serial of the certificate the gateway presents for `name`.
  func presentedCertificate(_ name: String) throws -> String {
    try Shell.run(
      "openssl s_client -connect 127.0.0.1:\(gateway.port) -servername \(name) </dev/null 2>/dev/null | openssl x509 -noout -subject -serial",
      allowFailure: true)
  }

  func testCertificateChosenBySNI() throws {
    XCTAssertTrue(try presentedCertificate("a.tls.test").contains("CN = a.tls.test"))
    XCTAssertTrue(try presentedCertificate("b.tls.test").contains("CN = b.tls.test"))
    XCTAssertTrue(
      try presentedCertificate("x.wild.tls.test").contains("CN = a.tls.test"), "wildcard server name")
    let (status, body) = try curl("a.tls.test", path: "/hello")
    XCTAssertEqual(status, 0, body)
    let echo = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    let headers = echo?["headers"] as? [String: [String]]
    XCTAssertEqual(headers?["x-forwarded-proto"], ["https"])
    XCTAssertEqual(echo?["path"] as? String, "/hello")
  }

  func testHTTP2ByALPN() throws {
    let h2 = try curl("a.tls.test", path: "/alpn", options: "--http2 -w '\\n%{http_version}'")
    XCTAssertEqual(h2.status, 0, h2.body)
    XCTAssertEqual(h2.body.split(separator: "\n").last, "2")
    XCTAssertTrue(h2.body.contains("\"x-forwarded-proto\":[\"https\"]"), h2.body)
    let h1 = try curl("a.tls.test", path: "/alpn", options: "--http1.1 -o /dev/null -w '%{http_version}'")
    XCTAssertEqual(h1.body, "1.1")
  }

  func testUnknownServerNameIsRefused() throws {
    let (status, _) = try curl("nobody.test")
    XCTAssertNotEqual(status, 0)
  }

  func testMutualTLS() throws {
    let good = try curl(
      "b.tls.test",
      options: "--cert \(certificates.path("client.pem")) --key \(certificates.path("client.key"))")
    XCTAssertEqual(good.status, 0, good.body)
    XCTAssertEqual(good.body, "site-b")
    let withoutCertificate = try curl("b.tls.test")
    XCTAssertNotEqual(withoutCertificate.status, 0, withoutCertificate.body)
    let wrongName = try curl(
      "b.tls.test",
      options: "--cert \(certificates.path("stranger.pem")) --key \(certificates.path("stranger.key"))")
    XCTAssertNotEqual(
      wrongName.status, 0, "a certificate without the required SAN is refused: \(wrongName.body)")
  }

  func testMinimumVersion() throws {
    let old = try curl("v13.tls.test", options: "--tls-max 1.2")
    XCTAssertNotEqual(old.status, 0, "TLS 1.2 is refused when the minimum is 1.3")
    let current = try curl("v13.tls.test", options: "--tlsv1.3")
    XCTAssertEqual(current.status, 0, current.body)
    XCTAssertEqual(current.body, "site-b")
    // Without parameters, TLS 1.1 is not offered.
    let ancient = try Shell.run(
      "openssl s_client -connect 127.0.0.1:\(gateway.port) -servername a.tls.test -tls1_1 </dev/null 2>&1",
      allowFailure: true)
    XCTAssertFalse(ancient.contains("BEGIN CERTIFICATE"), ancient)
    // Nor CBC suites over TLS 1.2; AEAD suites are.
    func handshake(_ cipher: String) throws -> String {
      try Shell.run(
        "openssl s_client -connect 127.0.0.1:\(gateway.port) -servername a.tls.test -tls1_2 -cipher \(cipher) </dev/null 2>&1",
        allowFailure: true)
    }
    XCTAssertFalse(try handshake("ECDHE-ECDSA-AES128-SHA").contains("BEGIN CERTIFICATE"))
    XCTAssertTrue(try handshake("ECDHE-ECDSA-AES128-GCM-SHA256").contains("BEGIN CERTIFICATE"))
  }

  func testCertificateReloadIsSeenByTheNextHandshake() async throws {
    let before = try presentedCertificate("a.tls.test")
    try certificates.issue("a2", commonName: "a.tls.test", altNames: ["DNS:a.tls.test"])
    let secret = try certificates.secret("a-cert", namespace: "gateways", certificate: "a2")
    try gateway.write(try Self.manifests(certificates, echo: gateway.port("echo"), aSecret: secret))
    var after = before
    for _ in 0..<50 where after == before {
      try await Task.sleep(for: .milliseconds(100))
      after = try presentedCertificate("a.tls.test")
    }
    XCTAssertNotEqual(after, before, "a new handshake presents the new certificate")
    XCTAssertTrue(after.contains("CN = a.tls.test"))
  }

  func testSecretsStayOutOfTheConfigDump() async throws {
    let dump = try await send(.GET, "http://127.0.0.1:\(gateway.adminPort)/config_dump", host: "admin")
    XCTAssertEqual(dump.status, 200)
    XCTAssertTrue(dump.body.contains("secret gateways/a-cert"), "the dump says where the material comes from")
    XCTAssertFalse(dump.body.contains("PRIVATE KEY"))
    XCTAssertFalse(dump.body.contains("BEGIN CERTIFICATE"))
  }

  /// A connection made before a reload turned its chain MUTUAL did not show a certificate: its next
  /// request gets 421 and the connection closes, so the client must connect (and verify) again.
  func testConnectionsOpenedBeforeMutualIsRequiredMustReconnect() async throws {
    var configuration = HTTPClient.Configuration()
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .file(certificates.path("ca.pem"))
    configuration.tlsConfiguration = tls
    configuration.dnsOverride = ["a.tls.test": "127.0.0.1"]
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    defer { _ = client.shutdown() }
    let url = "https://a.tls.test:\(gateway.port)/kept"
    let first = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
    XCTAssertEqual(first.status.code, 200)
    _ = try await first.body.collect(upTo: 1 << 20)

    let secret = try certificates.secret("a-cert", namespace: "gateways", certificate: "a", includeCA: true)
    try gateway.write(
      try Self.manifests(certificates, echo: gateway.port("echo"), aSecret: secret, aMode: "MUTUAL"))
    guard case .applied = await gateway.gateway.reload() else { return XCTFail("the reload was not applied") }

    let second = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
    XCTAssertEqual(second.status.code, 421)
    _ = try await second.body.collect(upTo: 1 << 20)
    do {
      let third = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
      XCTFail("a new connection without a client certificate must fail: \(third.status)")
    } catch {}
  }

  func testBrokenCertificateIsRejectedOnReload() async throws {
    let broken = """
      apiVersion: v1
      kind: Secret
      metadata: {name: a-cert, namespace: gateways}
      type: kubernetes.io/tls
      stringData: {tls.crt: not a certificate, tls.key: not a key}
      ---

      """
    try gateway.write(try Self.manifests(certificates, echo: gateway.port("echo"), aSecret: broken))
    let outcome = await gateway.gateway.reload()
    guard case .rejected(let errors) = outcome else { return XCTFail("\(outcome)") }
    XCTAssertTrue(
      errors.contains { $0.contains("secret gateways/a-cert") && $0.contains("PEM") }, "\(errors)")
    XCTAssertFalse(errors.joined().contains("not a key"), "the secret's value is not shown")
    XCTAssertEqual(try curl("a.tls.test").status, 0, "the last good configuration keeps serving")
  }
}
