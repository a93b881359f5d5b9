import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PorticoAPI
import PorticoTranslate
import XCTest

@testable import PorticoProxy

/// `tcp` handlers with tlsMode PASSTHROUGH: chosen by SNI beside chains the gateway terminates, the
/// client's TLS reaches the upstream untouched (its certificate, its HTTP), and a failed upstream closes
/// the connection.
final class PassthroughTests: XCTestCase {
  var certificates: TestCertificates!
  var gateway: TestGateway!

  override func setUp() async throws {
    let certificates = try TestCertificates()
    self.certificates = certificates
    try certificates.issue("edge", commonName: "edge.test", altNames: ["DNS:edge.test"])
    try certificates.issue(
      "backend", commonName: "pass.test", altNames: ["DNS:pass.test", "DNS:*.pass.test"])
    let backendTLS = try certificates.serverContext("backend", alpn: ["http/1.1"])
    let deadPort = try await closedPort()
    gateway = try await TestGateway(
      upstreams: ["backend"], behaviours: ["backend": .init(tls: backendTLS)],
      manifests: { gateway in
        """
        apiVersion: portico.dev/v1
        kind: VirtualGateway
        metadata: {name: edge, namespace: gateways}
        spec:
          ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: test}}}]}]
          connectionHandlers:
          - connectionMatch: {serverNames: [edge.test]}
            connectionOptions: {sslConfig: {secretName: edge-cert, tlsMode: SIMPLE}}
            http: {routeConfig: [{virtualHost: {domains: ["*"], routes: [{directResponseAction: {status: 200, body: terminated}}]}}]}
          - connectionMatch: {serverNames: [pass.test, "*.pass.test"]}
            connectionOptions: {sslConfig: {tlsMode: PASSTHROUGH}}
            tcp: {tcpHosts: [{name: backend, destination: {staticDestination: {name: backend, namespace: apps}}}]}
          - connectionMatch: {serverNames: [dead.test]}
            connectionOptions: {sslConfig: {tlsMode: PASSTHROUGH}}
            tcp:
              tcpHosts: [{name: dead, destination: {staticDestination: {name: dead, namespace: apps}}}]
              options: {tcpProxySettings: {maxConnectAttempts: 2}}
        ---

        """ + ((try? certificates.secret("edge-cert", namespace: "gateways", certificate: "edge")) ?? "")
          + staticDestination("backend", ports: [gateway.port("backend")])
          + staticDestination("dead", ports: [deadPort])
      })
  }

  override func tearDown() async throws {
    await gateway?.stop()
    certificates?.remove()
  }

  func curl(_ name: String, path: String = "/") throws -> String {
    try Shell.run(
      "curl -sS --max-time 5 --resolve \(name):\(gateway.port):127.0.0.1 --cacert \(certificates.path("ca.pem")) https://\(name):\(gateway.port)\(path)"
    )
  }

  func testPassthroughReachesTheUpstreamsOwnTLS() async throws {
    let body = try curl("pass.test", path: "/through?x=1")
    let echo = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    XCTAssertEqual(echo?["server"] as? String, "backend", body)
    XCTAssertEqual(echo?["path"] as? String, "/through")
    // The gateway never saw the HTTP inside: it added no forwarding fields.
    XCTAssertNil((echo?["headers"] as? [String: [String]])?["x-forwarded-for"], body)
    let presented = try Shell.run(
      "openssl s_client -connect 127.0.0.1:\(gateway.port) -servername api.pass.test </dev/null 2>/dev/null | openssl x509 -noout -subject",
      allowFailure: true)
    XCTAssertTrue(
      presented.contains("CN = pass.test"), "the upstream's certificate, by wildcard: \(presented)")
    // Each passed-through connection has an access log line: the SNI name, the bytes each way.
    let log = await gateway.accessLog()
    let first = try XCTUnwrap(log.first)
    XCTAssertEqual(first["authority"] as? String, "pass.test")
    XCTAssertEqual(first["method"] as? String, "-")
    XCTAssertEqual(first["upstream"] as? String, "127.0.0.1:\(gateway.port("backend"))")
    XCTAssertGreaterThan(first["bytes_in"] as? Int ?? 0, 200, "the ClientHello and the request, encrypted")
    XCTAssertGreaterThan(first["bytes_out"] as? Int ?? 0, 500, "the certificate and the response, encrypted")
  }

  func testTerminatedChainBesidePassthrough() throws {
    XCTAssertEqual(try curl("edge.test"), "terminated")
  }

  /// A large body both ways, to exercise backpressure through the relay.
  func testLargeTransfer() throws {
    let body = try Shell.run(
      "curl -sS --max-time 20 --resolve pass.test:\(gateway.port):127.0.0.1 --cacert \(certificates.path("ca.pem")) -o /dev/null -w '%{size_download}' https://pass.test:\(gateway.port)/bytes/20000000"
    )
    XCTAssertEqual(body, "20000000")
  }

  func testUnreachableUpstreamClosesTheConnection() async throws {
    XCTAssertThrowsError(try curl("dead.test")) { error in
      XCTAssertTrue("\(error)".contains("curl"), "\(error)")
    }
    let metrics = gateway.gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains("portico_upstream_connect_errors_total 2"), "two attempts: \(metrics)")
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["UF"])
  }

  /// As in Envoy, an idle timeout of zero turns it off rather than closing every connection at once.
  func testZeroIdleTimeoutMeansNone() {
    let forward = TCPForwardRuntime(
      TCPForward(destinations: [], maxConnectAttempts: 1, idleTimeout: ManifestDuration(nanoseconds: 0)),
      upstreams: [:])
    XCTAssertEqual(forward.idleTimeout, TimeAmount.nanoseconds(.max))
    let unset = TCPForwardRuntime(
      TCPForward(destinations: [], maxConnectAttempts: 1, idleTimeout: nil), upstreams: [:])
    XCTAssertEqual(unset.idleTimeout, TimeAmount.hours(1))
  }

  func testUnknownServerNameIsRefused() throws {
    XCTAssertThrowsError(try curl("nobody.test"))
  }
}
