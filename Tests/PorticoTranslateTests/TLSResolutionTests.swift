import PorticoAPI
import XCTest

@testable import PorticoTranslate

/// `sslConfig` resolved into what the gateway terminates: Secrets from the gateway's own namespace, the
/// keys each mode needs, unsupported modes and inverted versions reported where they are written.
final class TLSResolutionTests: XCTestCase {
  func virtualGateway(_ sslConfig: String) -> String {
    """
    apiVersion: portico.dev/v1
    kind: VirtualGateway
    metadata: {name: secure, namespace: gateways}
    spec:
      ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: edge}}}]}]
      connectionHandlers:
      - connectionMatch: {serverNames: [secure.test]}
        connectionOptions: {sslConfig: \(sslConfig)}
        http: {routeConfig: [{virtualHost: {domains: [secure.test], routes: [{directResponseAction: {status: 200}}]}}]}
    ---

    """
  }

  func secret(_ name: String, namespace: String = "gateways", keys: [String]) -> String {
    """
    apiVersion: v1
    kind: Secret
    metadata: {name: \(name), namespace: \(namespace)}
    type: kubernetes.io/tls
    stringData: {\(keys.map { "\($0): x" }.joined(separator: ", "))}
    ---

    """
  }

  func chain(_ translation: Translation) -> ServerNameChain? {
    translation.config.listeners.first?.serverNameChains.first { $0.serverNames == ["secure.test"] }
  }

  func errors(_ translation: Translation) -> [String] {
    translation.status(.virtualGateway, "gateways", "secure")?.errors.map(\.description) ?? []
  }

  func testSecretFromTheGatewaysNamespace() throws {
    let result = translate(
      virtualGateway("{secretName: cert, tlsMode: SIMPLE}") + secret("cert", keys: ["tls.crt", "tls.key"]))
    let tls = try XCTUnwrap(chain(result)?.tls)
    XCTAssertEqual(tls.mode, .simple)
    guard case .secret(let id, let data) = tls.material else { return XCTFail("\(tls.material)") }
    XCTAssertEqual(id.qualifiedName, "gateways/cert")
    XCTAssertEqual(data.value(for: "tls.key"), Array("x".utf8))
  }

  func testSecretInAnotherNamespaceIsNotFound() {
    let result = translate(
      virtualGateway("{secretName: cert, tlsMode: SIMPLE}")
        + secret("cert", namespace: "apps", keys: ["tls.crt", "tls.key"]))
    XCTAssertNil(chain(result)?.tls)
    XCTAssertTrue(
      errors(result).contains { $0.contains("secret gateways/cert not found") }, "\(errors(result))")
    XCTAssertTrue(errors(result).contains { $0.contains("sslConfig.secretName") })
  }

  func testMutualNeedsACA() {
    let result = translate(
      virtualGateway("{secretName: cert, tlsMode: MUTUAL}") + secret("cert", keys: ["tls.crt", "tls.key"]))
    XCTAssertNil(chain(result)?.tls)
    XCTAssertTrue(errors(result).contains { $0.contains("has no ca.crt") }, "\(errors(result))")
    let files = translate(virtualGateway("{sslFiles: {tlsCert: c.pem, tlsKey: k.pem}, tlsMode: MUTUAL}"))
    XCTAssertTrue(errors(files).contains { $0.contains("needs sslFiles.rootCa") }, "\(errors(files))")
  }

  func testFilesAreKeptAsPaths() throws {
    let result = translate(virtualGateway("{sslFiles: {tlsCert: c.pem, tlsKey: k.pem}, tlsMode: SIMPLE}"))
    let tls = try XCTUnwrap(chain(result)?.tls)
    guard case .files(let certificate, let key, let ca) = tls.material else { return XCTFail() }
    XCTAssertEqual([certificate, key], ["c.pem", "k.pem"])
    XCTAssertNil(ca)
  }

  func testPassthroughChainGoesToItsDestination() throws {
    let result = translate(
      """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: secure, namespace: gateways}
      spec:
        ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: edge}}}]}]
        connectionHandlers:
        - connectionMatch: {serverNames: [db.test]}
          connectionOptions: {sslConfig: {tlsMode: PASSTHROUGH}}
          tcp:
            tcpHosts: [{name: db, destination: {staticDestination: {name: db, namespace: data}}}]
            options: {tcpProxySettings: {maxConnectAttempts: 3, idleTimeout: 30s}}
        - connectionMatch: {serverNames: [db.test]}
          connectionOptions: {sslConfig: {secretName: cert, tlsMode: SIMPLE}}
          http: {routeConfig: [{virtualHost: {domains: [db.test], routes: [{directResponseAction: {status: 200}}]}}]}
      ---
      apiVersion: portico.dev/v1
      kind: StaticDestination
      metadata: {name: db, namespace: data}
      spec: {endpoints: [{address: 10.0.0.5, port: 5432}]}
      ---

      """ + secret("cert", keys: ["tls.crt", "tls.key"]))
    let chain = try XCTUnwrap(
      result.config.listeners.first?.serverNameChains.first { $0.serverNames == ["db.test"] })
    let passthrough = try XCTUnwrap(chain.passthrough)
    XCTAssertNil(chain.tls)
    XCTAssertEqual(chain.serverNames, ["db.test"])
    XCTAssertEqual(passthrough.destinations.map(\.upstream), ["static:data/db"])
    XCTAssertEqual(passthrough.maxConnectAttempts, 3)
    XCTAssertEqual(passthrough.idleTimeout?.nanoseconds, 30_000_000_000)
    let errors = result.status(.virtualGateway, "gateways", "secure")?.errors.map(\.message) ?? []
    XCTAssertTrue(
      errors.contains { $0.contains("already passed through by a tcp handler") },
      "same names twice: \(errors)")
  }

  func testInvertedVersionsAreAnError() {
    let result = translate(
      virtualGateway(
        "{secretName: cert, tlsMode: SIMPLE, parameters: {minimumProtocolVersion: TLSv1_3, maximumProtocolVersion: TLSv1_2}}"
      ) + secret("cert", keys: ["tls.crt", "tls.key"]))
    XCTAssertNil(chain(result)?.tls)
    XCTAssertTrue(
      errors(result).contains { $0.contains("is above maximumProtocolVersion") }, "\(errors(result))")
  }

  func testMaterialIsNeverEncoded() throws {
    let result = translate(
      virtualGateway("{secretName: cert, tlsMode: SIMPLE}") + secret("cert", keys: ["tls.crt", "tls.key"]))
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    let encoded = String(decoding: try encoder.encode(result.config), as: UTF8.self)
    XCTAssertTrue(encoded.contains("secret gateways/cert"))
    XCTAssertFalse(encoded.contains("\"x\""))
  }
}
