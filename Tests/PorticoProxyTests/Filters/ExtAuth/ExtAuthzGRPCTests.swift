import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PorticoExtAuthGRPC
import Synchronization
import XCTest

@testable import PorticoProxy

/// `passThroughAuth.grpc` against an ext_authz server of the test's own, written to Envoy's
/// `envoy.service.auth.v3.Authorization` contract: what the server is told about the request, how an OK
/// answer changes the request upstream and the response, how a denial reaches the client, and what an error
/// answer, a slow server and a missing one come to.
final class ExtAuthzGRPCTests: XCTestCase {
  var server: GRPCServer<HTTP2ServerTransport.Posix>!
  var serverTask: Task<Void, Error>!
  var gateway: TestGateway!
  let authorizer = Authorizer()

  override func setUp() async throws {
    let server = GRPCServer(
      transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
      services: [authorizer])
    self.server = server
    serverTask = Task { try await server.serve() }
    guard let port = try await server.listeningAddress?.ipv4?.port else {
      return XCTFail("the ext_authz server did not start")
    }
    let gone = try await closedPort()
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + staticDestination("authz", ports: [port], extra: ", protocol: GRPC")
        + Self.authConfig("grpc", address: "127.0.0.1:\(port)")
        + Self.authConfig("lenient", address: "127.0.0.1:\(port)", failureModeAllow: true)
        + Self.authConfig("gone", address: "127.0.0.1:\(gone)")
        + virtualHost(
          "authz.test",
          options: "  options: {trafficPolicy: {extauth: {configRef: {name: grpc}}}}",
          routes: """
                - matchers: [{uri: {prefix: /lenient}}]
                  options: {extauth: {configRef: {name: lenient}}, extauthSettings: {requestTimeout: 300ms}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /gone}}]
                  options: {extauth: {configRef: {name: gone}}, extauthSettings: {statusOnError: 503}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /custom}}]
                  options:
                    extauth: {customAuth: {contextExtensions: {team: orders, tier: gold}}}
                    extauthSettings: {extauthzRef: {name: authz}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /upload}}]
                  options: {extauthSettings: {requestBody: {maxRequestBytes: 16, allowPartialMessage: true}}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /strict}}]
                  options: {extauthSettings: {requestBody: {maxRequestBytes: 8, packAsBytes: true}}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /nameless}}]
                  options: {extauth: {customAuth: {}}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - matchers: [{uri: {prefix: /hurried}}]
                  options: {extauthSettings: {requestTimeout: 300ms}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
  }

  override func tearDown() async throws {
    await gateway?.stop()
    serverTask?.cancel()
    _ = try? await serverTask?.value
  }

  static func authConfig(_ name: String, address: String, failureModeAllow: Bool = false) -> String {
    """
    apiVersion: enterprise.gloo.solo.io/v1
    kind: AuthConfig
    metadata: {name: \(name), namespace: apps}
    spec:
      configs:
      - passThroughAuth:
          failureModeAllow: \(failureModeAllow)
          grpc: {address: '\(address)'}
    ---

    """
  }

  private func get(_ path: String, token: String?, _ headers: [(String, String)] = []) async throws
    -> TestResponse
  {
    let credentials = token.map { [("authorization", "Bearer \($0)")] } ?? []
    return try await send(.GET, gateway.base + path, host: "authz.test", headers: credentials + headers)
  }

  func testTheServerIsToldWhatEnvoyTellsIt() async throws {
    let response = try await get(
      "/orders/7?full=1", token: "user-alice", [("x-tenant", "acme"), ("x-tenant", "beta")])
    XCTAssertEqual(response.status, 200, response.body)
    let asked = try XCTUnwrap(authorizer.requests.last)
    let http = asked.attributes.request.http
    XCTAssertEqual(http.method, "GET")
    XCTAssertEqual(http.path, "/orders/7?full=1", "the path carries the query, as Envoy sends it")
    XCTAssertEqual(http.host, "authz.test")
    XCTAssertEqual(http.headers["authorization"], "Bearer user-alice")
    XCTAssertEqual(http.headers["x-tenant"], "acme,beta", "repeated fields joined with commas")
    XCTAssertEqual(http.protocol, "HTTP/1.1")
    XCTAssertFalse(http.id.isEmpty, "the request ID is sent")
    XCTAssertEqual(asked.attributes.source.address.socketAddress.address, "127.0.0.1")
    XCTAssertGreaterThan(asked.attributes.request.time.seconds, 0)
  }

  func testAnOKAnswerChangesTheRequestUpstreamAndTheResponse() async throws {
    let response = try await get(
      "/orders?token=secret&tenant=old&keep=1", token: "user-alice",
      [("x-auth-user", "mallory"), ("x-remove-me", "1"), ("x-extra", "client")])
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(
      response.upstreamHeader("x-auth-user"), ["alice"], "set: the server's value replaces the client's")
    XCTAssertEqual(
      response.upstreamHeader("x-extra"), ["client", "server"], "append: added after the client's")
    XCTAssertNil(response.upstreamHeader("x-remove-me"), "headers_to_remove")
    XCTAssertNil(response.upstreamHeader("x-bad"), "a header with a line break is dropped, never written")
    let query = try XCTUnwrap(response.json["query"] as? String)
    XCTAssertFalse(query.contains("token="), "query_parameters_to_remove: \(query)")
    XCTAssertTrue(query.contains("keep=1"), query)
    XCTAssertTrue(query.contains("tenant=acme%20corp"), "query_parameters_to_set: \(query)")
    XCTAssertFalse(query.contains("tenant=old"), query)
    XCTAssertEqual(response.headers["x-auth-response"], ["yes"], "response_headers_to_add reach the client")
  }

  func testADenialCarriesTheServersStatusHeadersAndBody() async throws {
    let missing = try await get("/orders", token: nil)
    XCTAssertEqual(missing.status, 401)
    XCTAssertEqual(missing.headers["www-authenticate"].first, "Bearer realm=\"authz\"")
    let reader = try await get("/orders", token: "reader")
    XCTAssertEqual(reader.status, 403)
    XCTAssertEqual(reader.headers["x-reason"].first, "read-only")
    XCTAssertEqual(reader.body, "read-only tokens may not order\n")
    let bare = try await get("/orders", token: "bare-denial")
    XCTAssertEqual(bare.status, 403, "a non-OK status without a denied response is 403, as in Envoy")
  }

  func testErrorsSlowAndMissingServersAnswerStatusOnErrorUnlessFailureModeAllows() async throws {
    let failed = try await get("/orders", token: "error")
    XCTAssertEqual(failed.status, 403, "an error_response is a failed check: statusOnError, 403 by default")
    let started = Date()
    let hurried = try await get("/hurried", token: "slow")
    XCTAssertEqual(hurried.status, 403)
    XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "answered at the timeout, not after the server")
    let gone = try await get("/gone", token: "user-alice")
    XCTAssertEqual(gone.status, 503, "a server that is not there: statusOnError as set")
    let lenient = try await get("/lenient", token: "slow")
    XCTAssertEqual(lenient.status, 200, "failureModeAllow lets a failed check through")
    let refused = try await get("/lenient", token: "reader")
    XCTAssertEqual(refused.status, 403, "failureModeAllow does not turn a denial into a pass")
    let next = try await get("/orders", token: "user-bob")
    XCTAssertEqual(next.upstreamHeader("x-auth-user"), ["bob"], "the gateway keeps asking after failures")
  }

  /// With `requestBody` set the server sees the body (cut to the bound when partial bodies are allowed, as
  /// bytes when asked), and the upstream still gets all of it; a longer body is 413 otherwise.
  func testTheServerSeesTheBodyWhenTheSettingsAskForIt() async throws {
    let body = "0123456789abcdefghij"
    let upload = try await send(
      .POST, gateway.base + "/upload", host: "authz.test", headers: [("authorization", "Bearer user-hana")],
      body: body)
    XCTAssertEqual(upload.status, 200, upload.body)
    XCTAssertEqual(upload.json["bodyBytes"] as? Int, 20, "the upstream gets the whole body")
    let asked = try XCTUnwrap(authorizer.requests.last).attributes.request.http
    XCTAssertEqual(asked.body, "0123456789abcdef")
    XCTAssertEqual(asked.headers["x-envoy-auth-partial-body"], "true")
    let small = try await send(
      .POST, gateway.base + "/strict", host: "authz.test", headers: [("authorization", "Bearer user-hana")],
      body: "tiny")
    XCTAssertEqual(small.status, 200, small.body)
    let packed = try XCTUnwrap(authorizer.requests.last).attributes.request.http
    XCTAssertEqual(packed.rawBody, Data("tiny".utf8), "packAsBytes: raw_body")
    XCTAssertEqual(packed.body, "")
    let large = try await send(
      .POST, gateway.base + "/strict", host: "authz.test", headers: [("authorization", "Bearer user-hana")],
      body: body)
    XCTAssertEqual(large.status, 413)
    let plain = try await get("/orders", token: "user-hana")
    XCTAssertEqual(plain.status, 200)
    XCTAssertEqual(
      authorizer.requests.last?.attributes.request.http.headers["x-envoy-auth-partial-body"], nil)
  }

  /// A route's `customAuth` asks the server the settings' `extauthzRef` names, with its context extensions;
  /// without a server to ask, the route is never served unchecked.
  func testCustomAuthAsksTheNamedServerWithTheRoutesContext() async throws {
    let allowed = try await get("/custom/orders", token: "user-gina")
    XCTAssertEqual(allowed.status, 200, allowed.body)
    XCTAssertEqual(allowed.upstreamHeader("x-auth-user"), ["gina"])
    let asked = try XCTUnwrap(authorizer.requests.last)
    XCTAssertEqual(asked.attributes.contextExtensions, ["team": "orders", "tier": "gold"])
    let refused = try await get("/custom/orders", token: "reader")
    XCTAssertEqual(refused.status, 403)
    let nameless = try await get("/nameless", token: "user-gina")
    XCTAssertEqual(nameless.status, 500, "no server named: an invalid route, not an open one")
  }
}

/// An ext_authz server that decides by the bearer token, as the Envoy contract lets one answer: `user-NAME`
/// passes as NAME (with every kind of change an OK answer can ask for), `reader` is denied with its own
/// status, headers and body, `bare-denial` gets only a non-OK status, `error` an error response, `slow` an
/// answer after two seconds, and anything else 401 with a challenge.
final class Authorizer: Envoy_Service_Auth_V3_Authorization.SimpleServiceProtocol {
  private let asked = Mutex<[Envoy_Service_Auth_V3_CheckRequest]>([])

  var requests: [Envoy_Service_Auth_V3_CheckRequest] { asked.withLock { $0 } }

  func check(request: Envoy_Service_Auth_V3_CheckRequest, context: ServerContext) async throws
    -> Envoy_Service_Auth_V3_CheckResponse
  {
    asked.withLock { $0.append(request) }
    let token = (request.attributes.request.http.headers["authorization"] ?? "").replacingOccurrences(
      of: "Bearer ", with: "")
    var response = Envoy_Service_Auth_V3_CheckResponse()
    switch token {
    case "slow":
      try await Task.sleep(for: .seconds(2))
    case "reader":
      response.status.code = 7  // PERMISSION_DENIED
      var denied = Envoy_Service_Auth_V3_DeniedHttpResponse()
      denied.status.code = .forbidden
      denied.headers = [Self.header("x-reason", "read-only")]
      denied.body = "read-only tokens may not order\n"
      response.deniedResponse = denied
    case "bare-denial":
      response.status.code = 7
    case "error":
      response.status.code = 13  // INTERNAL
      response.errorResponse = Envoy_Service_Auth_V3_DeniedHttpResponse()
    case let user where user.hasPrefix("user-"):
      var ok = Envoy_Service_Auth_V3_OkHttpResponse()
      ok.headers = [
        Self.header("x-auth-user", String(user.dropFirst(5))),
        Self.header("x-extra", "server", append: true),
        Self.header("x-bad", "one\r\nx-injected: two"),
      ]
      ok.headersToRemove = ["x-remove-me", "host"]
      var tenant = Envoy_Config_Core_V3_QueryParameter()
      tenant.key = "tenant"
      tenant.value = "acme corp"
      ok.queryParametersToSet = [tenant]
      ok.queryParametersToRemove = ["token"]
      ok.responseHeadersToAdd = [Self.header("x-auth-response", "yes")]
      response.okResponse = ok
    default:
      response.status.code = 16  // UNAUTHENTICATED
      var denied = Envoy_Service_Auth_V3_DeniedHttpResponse()
      denied.status.code = .unauthorized
      denied.headers = [Self.header("www-authenticate", "Bearer realm=\"authz\"")]
      response.deniedResponse = denied
    }
    return response
  }

  private static func header(_ name: String, _ value: String, append: Bool? = nil)
    -> Envoy_Config_Core_V3_HeaderValueOption
  {
    var option = Envoy_Config_Core_V3_HeaderValueOption()
    option.header.key = name
    option.header.value = value
    if let append { option.append.value = append }
    return option
  }
}
