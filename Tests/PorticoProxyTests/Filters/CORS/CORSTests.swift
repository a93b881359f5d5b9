import Foundation
import XCTest

@testable import PorticoProxy

/// `corsPolicy`: preflights from allowed origins answered by the gateway, allow and expose fields on
/// actual responses, nothing for other origins, and a route's own policy replacing its host's.
final class CORSTests: XCTestCase {
  var gateway: TestGateway!
  let recorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo"], behaviours: ["echo": .init(recorder: recorder)],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "cors.test",
            options: """
                options:
                  trafficPolicy:
                    corsPolicy:
                      allowOrigins: [{exact: "https://app.example.com"}, {suffix: ".trusted.example", ignoreCase: true}, {regex: "https://pr-[0-9]+\\\\.preview\\\\.example"}]
                      allowMethods: [GET, PUT]
                      allowHeaders: [content-type, x-token]
                      exposeHeaders: [x-upstream]
                      maxAge: 10m
                      allowCredentials: true
              """,
            routes: """
                - matchers: [{uri: {prefix: /other}}]
                  options: {corsPolicy: {allowOrigins: [{exact: "https://other.example"}]}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /local}}]
                  directResponseAction: {status: 200, body: local}
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  func preflight(_ path: String, origin: String) async throws -> TestResponse {
    try await send(
      .OPTIONS, gateway.base + path, host: "cors.test",
      headers: [("origin", origin), ("access-control-request-method", "PUT")])
  }

  func testPreflightIsAnsweredByTheGateway() async throws {
    let response = try await preflight("/api/items", origin: "https://app.example.com")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.headers["access-control-allow-origin"], ["https://app.example.com"])
    XCTAssertEqual(response.headers["access-control-allow-methods"], ["GET,PUT"])
    XCTAssertEqual(response.headers["access-control-allow-headers"], ["content-type,x-token"])
    XCTAssertEqual(response.headers["access-control-max-age"], ["600"])
    XCTAssertEqual(response.headers["access-control-allow-credentials"], ["true"])
    XCTAssertEqual(response.headers["vary"], ["Origin"])
    XCTAssertEqual(recorder.requests, [], "a preflight is not forwarded")
  }

  func testOriginMatchers() async throws {
    for origin in ["https://API.Trusted.Example", "https://pr-42.preview.example"] {
      let response = try await preflight("/x", origin: origin)
      XCTAssertEqual(response.headers["access-control-allow-origin"], [origin], origin)
    }
    let mismatch = try await preflight("/x", origin: "https://pr-x.preview.example")
    XCTAssertEqual(mismatch.headers["access-control-allow-origin"], [])
  }

  /// A preflight from another origin gets no CORS fields: it is forwarded like any OPTIONS request.
  func testDisallowedOriginGetsNoCORSFields() async throws {
    let response = try await preflight("/api", origin: "https://evil.example")
    XCTAssertEqual(response.json["method"] as? String, "OPTIONS")
    XCTAssertEqual(response.headers["access-control-allow-origin"], [])
    let actual = try await send(
      .GET, gateway.base + "/api", host: "cors.test", headers: [("origin", "https://evil.example")])
    XCTAssertEqual(actual.status, 200)
    XCTAssertEqual(actual.headers["access-control-allow-origin"], [])
  }

  func testActualResponsesCarryAllowAndExposeFields() async throws {
    let response = try await send(
      .GET, gateway.base + "/api", host: "cors.test", headers: [("origin", "https://app.example.com")])
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.headers["access-control-allow-origin"], ["https://app.example.com"])
    XCTAssertEqual(response.headers["access-control-expose-headers"], ["x-upstream"])
    XCTAssertEqual(response.headers["access-control-allow-credentials"], ["true"])
    XCTAssertEqual(response.headers["vary"], ["Origin"])
    let local = try await send(
      .GET, gateway.base + "/local", host: "cors.test", headers: [("origin", "https://app.example.com")])
    XCTAssertEqual(
      local.headers["access-control-allow-origin"], ["https://app.example.com"], "local answers too")
  }

  /// The route's own policy replaces the host's whole: its origin is allowed, the host's is not.
  func testRoutePolicyReplacesTheHosts() async throws {
    let own = try await preflight("/other", origin: "https://other.example")
    XCTAssertEqual(own.headers["access-control-allow-origin"], ["https://other.example"])
    XCTAssertEqual(own.headers["access-control-allow-credentials"], [])
    let hosts = try await preflight("/other", origin: "https://app.example.com")
    XCTAssertEqual(hosts.headers["access-control-allow-origin"], [])
  }
}
