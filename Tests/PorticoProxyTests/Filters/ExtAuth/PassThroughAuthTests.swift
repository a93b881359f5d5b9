import Foundation
import XCTest

@testable import PorticoProxy

/// `passThroughAuth` over HTTP against an auth service of the test's own (Python's `http.server`): what the
/// service sees, what of its answer reaches the upstream and the client, and what a service that fails,
/// is slow or is not there answers (`statusOnError`, `failureModeAllow`, `requestTimeout`).
final class PassThroughAuthTests: XCTestCase {
  var gateway: TestGateway!
  var service: PythonService!

  /// Decides by the bearer token: `user-NAME` passes as NAME, `reader` is refused with 403, `boom` gets a
  /// 500, `slow` an answer after two seconds, anything else 401 with a challenge.
  static let serviceScript = """
    import http.server, json, sys, time

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            token = self.headers.get("authorization", "").removeprefix("Bearer ")
            seen = json.dumps({name.lower(): value for name, value in self.headers.items()}, sort_keys=True)
            if token == "slow":
                time.sleep(2)
                return self.reply(200, [])
            if token == "boom":
                return self.reply(500, [])
            if token == "reader":
                return self.reply(403, [("x-reason", "read-only"), ("x-internal", "hidden")])
            if token.startswith("user-"):
                return self.reply(200, [("x-auth-user", token[5:]), ("x-auth-seen", seen), ("x-internal", "hidden")])
            self.reply(401, [("www-authenticate", 'Bearer realm="svc"'), ("x-internal", "hidden")])

        def reply(self, status, headers):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """

  override func setUp() async throws {
    service = try await PythonService(script: Self.serviceScript)
    let gone = try await closedPort()
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { [service] gateway in
        Self.manifests(echo: gateway.port("echo"), service: service!.port, gone: gone)
      })
  }

  override func tearDown() async throws {
    await gateway?.stop()
    await service?.stop()
  }

  static func authConfig(_ name: String, url: String, failureModeAllow: Bool = false) -> String {
    """
    apiVersion: enterprise.gloo.solo.io/v1
    kind: AuthConfig
    metadata: {name: \(name), namespace: apps}
    spec:
      configs:
      - passThroughAuth:
          failureModeAllow: \(failureModeAllow)
          http:
            url: \(url)
            request:
              allowedHeaders: [x-tenant]
              headersToAdd: {x-gateway: portico}
            response:
              allowedUpstreamHeaders: [x-auth-user, x-auth-seen]
              allowedClientHeadersOnDenied: [www-authenticate, x-reason]
    ---

    """
  }

  static func manifests(echo: Int, service: Int, gone: Int) -> String {
    gatewayManifest() + staticDestination("echo", ports: [echo])
      + authConfig("service", url: "http://127.0.0.1:\(service)/check")
      + authConfig("lenient", url: "http://127.0.0.1:\(service)/check", failureModeAllow: true)
      + authConfig("unreachable", url: "http://127.0.0.1:\(gone)/check")
      + virtualHost(
        "pass.test",
        options: "  options: {trafficPolicy: {extauth: {configRef: {name: service}}}}",
        routes: """
            - matchers: [{uri: {prefix: /lenient}}]
              options: {extauth: {configRef: {name: lenient}}, extauthSettings: {requestTimeout: 500ms}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /unreachable}}]
              options: {extauth: {configRef: {name: unreachable}}, extauthSettings: {statusOnError: 503}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - matchers: [{uri: {prefix: /hurried}}]
              options: {extauthSettings: {requestTimeout: 300ms}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  private func get(_ path: String, token: String?, _ headers: [(String, String)] = []) async throws
    -> TestResponse
  {
    let credentials = token.map { [("authorization", "Bearer \($0)")] } ?? []
    return try await send(.GET, gateway.base + path, host: "pass.test", headers: credentials + headers)
  }

  func testTheServiceSeesAllowedHeadersAndWhereTheRequestWasGoing() async throws {
    let response = try await get(
      "/orders/7?full=1", token: "user-alice",
      [("x-tenant", "acme"), ("cookie", "session=secret"), ("x-auth-user", "mallory")])
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(
      response.upstreamHeader("x-auth-user"), ["alice"], "the service's answer, not the client's")
    XCTAssertNil(response.upstreamHeader("x-internal"), "only the allowed headers of the answer go on")
    let seen = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data((response.upstreamHeader("x-auth-seen")?.first ?? "").utf8))
        as? [String: String])
    XCTAssertEqual(seen["authorization"], "Bearer user-alice")
    XCTAssertEqual(seen["x-tenant"], "acme")
    XCTAssertEqual(seen["x-gateway"], "portico")
    XCTAssertEqual(seen["x-forwarded-method"], "GET")
    XCTAssertEqual(seen["x-forwarded-uri"], "/orders/7?full=1")
    XCTAssertEqual(seen["x-forwarded-host"], "pass.test")
    XCTAssertNil(seen["cookie"], "a header not allowed never reaches the service")
  }

  func testRefusalsCarryTheServicesStatusAndAllowedHeaders() async throws {
    let missing = try await get("/orders", token: nil)
    XCTAssertEqual(missing.status, 401)
    XCTAssertEqual(missing.headers["www-authenticate"].first, "Bearer realm=\"svc\"")
    XCTAssertTrue(missing.headers["x-internal"].isEmpty)
    let reader = try await get("/orders", token: "reader")
    XCTAssertEqual(reader.status, 403)
    XCTAssertEqual(reader.headers["x-reason"].first, "read-only")
    let log = await gateway.accessLog()
    XCTAssertTrue(log.contains { ($0["flags"] as? String)?.contains("UAEX") == true }, "\(log)")
  }

  func testAFailingServiceAnswersStatusOnErrorUnlessFailureModeAllows() async throws {
    let failed = try await get("/orders", token: "boom")
    XCTAssertEqual(failed.status, 403, "statusOnError defaults to 403")
    let unreachable = try await get("/unreachable", token: "user-alice")
    XCTAssertEqual(unreachable.status, 503, "statusOnError as set")
    let lenient = try await get("/lenient", token: "boom")
    XCTAssertEqual(lenient.status, 200, "failureModeAllow lets the request through")
    XCTAssertNil(lenient.upstreamHeader("x-auth-user"))
    let refused = try await get("/lenient", token: "nobody")
    XCTAssertEqual(refused.status, 401, "failureModeAllow does not turn a refusal into a pass")
  }

  func testASlowServiceFailsTheCheckAtTheRequestTimeout() async throws {
    let started = Date()
    let hurried = try await get("/hurried", token: "slow")
    XCTAssertEqual(hurried.status, 403)
    XCTAssertLessThan(
      Date().timeIntervalSince(started), 1.5, "answered at the timeout, not after the service")
    let lenient = try await get("/lenient", token: "slow")
    XCTAssertEqual(lenient.status, 200, "a timeout is a failure failureModeAllow lets through")
    let next = try await get("/hurried", token: "user-bob")
    XCTAssertEqual(next.status, 200, "the gateway keeps serving after a timed-out check")
    XCTAssertEqual(next.upstreamHeader("x-auth-user"), ["bob"])
  }

  /// A client that leaves while its check waits: the answer that comes later finds no request, and the
  /// gateway goes on serving.
  func testAClientThatLeavesWhileTheServiceThinksIsForgotten() async throws {
    let socket = try LoopbackSocket.connect(port: gateway.port)
    RawClient.sendAll(
      Array("GET /hurried HTTP/1.1\r\nHost: pass.test\r\nAuthorization: Bearer slow\r\n\r\n".utf8), on: socket
    )
    try await Task.sleep(for: .milliseconds(100))
    close(socket)
    // The route's timeout passes, then the service's late answer arrives.
    try await Task.sleep(for: .milliseconds(2200))
    let next = try await get("/orders", token: "user-carol")
    XCTAssertEqual(next.status, 200, next.body)
    XCTAssertEqual(next.upstreamHeader("x-auth-user"), ["carol"])
  }
}
