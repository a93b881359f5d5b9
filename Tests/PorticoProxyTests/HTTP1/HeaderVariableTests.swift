import Foundation
import XCTest

@testable import PorticoProxy

/// Appended header values may use request variables: the client's address, a request field (the request
/// ID among them), the matched route's name, the protocol.
final class HeaderVariableTests: XCTestCase {
  func testVariablesAreFilledInPerRequest() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "vars.test",
          routes: """
              - name: orders
                options:
                  headerManipulation:
                    appendRequestHeaders:
                      x-client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
                      x-trace: "id=%REQ(x-request-id)% ua=%REQ(User-Agent)% missing=%REQ(x-none)%"
                      x-route: "%ROUTE_NAME% via %PROTOCOL% at 100%%"
                    appendResponseHeaders:
                      x-served-route: "%ROUTE_NAME%"
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    let response = try await send(
      .GET, gateway.base + "/x", host: "vars.test",
      headers: [("user-agent", "tests/1"), ("x-request-id", "r-42")])
    XCTAssertEqual(response.upstreamHeader("x-client"), ["127.0.0.1"])
    XCTAssertEqual(response.upstreamHeader("x-trace"), ["id=r-42 ua=tests/1 missing="])
    XCTAssertEqual(response.upstreamHeader("x-route"), ["orders via HTTP/1.1 at 100%"])
    XCTAssertEqual(response.headers["x-served-route"], ["orders"])
    // Without a request ID from the client, the one the gateway makes is used.
    let generated = try await send(.GET, gateway.base + "/x", host: "vars.test")
    let trace = try XCTUnwrap(generated.upstreamHeader("x-trace")?.first)
    let id = try XCTUnwrap(generated.upstreamHeader("x-request-id")?.first)
    XCTAssertTrue(trace.hasPrefix("id=\(id) "), "\(trace) vs \(id)")
  }
}
