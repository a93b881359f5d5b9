import Foundation
import Logging
import XCTest

@testable import PorticoProxy

/// The examples under `examples/` serve what their comments say.
final class ExampleTests: XCTestCase {
  func testTLSExample() async throws {
    let upstream = try await DemoUpstream.start(name: "web", port: 9201)
    defer { Task { try? await upstream.close() } }
    var options = GatewayOptions(
      identity: GatewayIdentity(
        name: "shop-https", namespace: "shop", labels: ["gateway": "shop"], ports: ["http": 0, "https": 0]),
      configDirectory: "examples/tls")
    options.adminPort = 0
    options.accessLog = .disabled
    options.watchInterval = nil
    var logger = Logger(label: "example")
    logger.logLevel = .critical
    let gateway = try Gateway(options: options, logger: logger)
    try await gateway.start()
    defer { Task { await gateway.shutdown() } }
    let https = try XCTUnwrap(gateway.boundPorts["https"])
    let http = try XCTUnwrap(gateway.boundPorts["http"])
    let body = try Shell.run(
      "curl -sS --max-time 5 --cacert examples/tls/shop.local.pem --resolve shop.local:\(https):127.0.0.1 https://shop.local:\(https)/hello"
    )
    let echo = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    XCTAssertEqual(echo?["path"] as? String, "/hello", body)
    XCTAssertEqual((echo?["headers"] as? [String: [String]])?["x-forwarded-proto"], ["https"])
    let redirect = try Shell.run(
      "curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: shop.local' http://127.0.0.1:\(http)/hello"
    )
    XCTAssertEqual(redirect, "301 https://shop.local/hello")
  }
}
