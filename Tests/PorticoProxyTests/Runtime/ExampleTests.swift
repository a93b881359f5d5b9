import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOSSL
import XCTest

@testable import PorticoProxy

/// The examples under `examples/` serve what their comments say.
final class ExampleTests: XCTestCase {
  func testTLSExample() async throws {
    let upstream = try await DemoUpstream.start(name: "web", port: 9201)
    defer { Task { try? await upstream.close() } }
    let gateway = try await exampleGateway(
      "examples/tls", name: "shop-https", labels: ["gateway": "shop"], ports: ["http", "https"])
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

  /// A gateway for `configDirectory` as the example's comments run it, on ephemeral ports.
  private func exampleGateway(
    _ configDirectory: String, name: String, labels: [String: String], ports: [String]
  ) async throws -> Gateway {
    var options = GatewayOptions(
      identity: GatewayIdentity(
        name: name, namespace: "shop", labels: labels,
        ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, 0) })),
      configDirectory: configDirectory)
    options.adminPort = 0
    options.accessLog = .disabled
    options.watchInterval = nil
    var logger = Logger(label: "example")
    logger.logLevel = .critical
    let gateway = try Gateway(options: options, logger: logger)
    try await gateway.start()
    return gateway
  }

  func testGRPCExample() async throws {
    let server = GRPCServer(
      transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 9301), transportSecurity: .plaintext),
      services: [EchoService()])
    let serving = Task { try await server.serve() }
    defer {
      server.beginGracefulShutdown()
      serving.cancel()
    }
    _ = try await server.listeningAddress
    let gateway = try await exampleGateway(
      "examples/grpc", name: "grpc", labels: ["gateway": "grpc"], ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    var config = HTTP2ClientTransport.Posix.Config.defaults
    config.http2.authority = "localhost"
    let transport = try HTTP2ClientTransport.Posix(
      target: .ipv4(address: "127.0.0.1", port: try XCTUnwrap(gateway.boundPorts["http"])),
      transportSecurity: .plaintext, config: config)
    let (unary, streamed) = try await withGRPCClient(transport: transport) { client in
      let unary = try await client.unary(
        request: ClientRequest(message: "hi"), descriptor: EchoService.get, serializer: StringCoder(),
        deserializer: StringCoder(), options: .defaults
      ) { try $0.message }
      let streamed = try await client.bidirectionalStreaming(
        request: StreamingClientRequest(of: String.self) { writer in
          for word in ["a", "b", "c"] { try await writer.write(word) }
        },
        descriptor: EchoService.update, serializer: StringCoder(), deserializer: StringCoder(),
        options: .defaults
      ) { response in
        var messages: [String] = []
        for try await message in response.messages { messages.append(message) }
        return messages
      }
      return (unary, streamed)
    }
    XCTAssertEqual(unary, "echo: hi from -")
    XCTAssertEqual(streamed, ["echo: a", "echo: b", "echo: c"])
  }

  func testTLSPassthroughExample() async throws {
    let certificates = try TestCertificates()
    defer { certificates.remove() }
    try certificates.issue("db", commonName: "db.shop.local", altNames: ["DNS:db.shop.local"])
    let context = try certificates.serverContext("db")
    let upstream = try await DemoUpstream.start(name: "db", port: 9202, behaviour: .init(tls: context))
    defer { Task { try? await upstream.close() } }
    let gateway = try await exampleGateway(
      "examples/tls-passthrough", name: "passthrough", labels: ["gateway": "passthrough"], ports: ["https"])
    defer { Task { await gateway.shutdown() } }
    let port = try XCTUnwrap(gateway.boundPorts["https"])
    let body = try Shell.run(
      "curl -sS --max-time 5 --cacert \(certificates.path("ca.pem")) --resolve db.shop.local:\(port):127.0.0.1 https://db.shop.local:\(port)/through"
    )
    let echo = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    XCTAssertEqual(echo?["server"] as? String, "db", body)
    XCTAssertEqual(echo?["path"] as? String, "/through")
  }

  func testRateLimitingExample() async throws {
    let upstream = try await DemoUpstream.start(name: "catalog", port: 9501)
    defer { Task { try? await upstream.close() } }
    let gateway = try await exampleGateway(
      "examples/rate-limiting", name: "limits", labels: ["gateway": "limits"], ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    let base = "http://127.0.0.1:\(try XCTUnwrap(gateway.boundPorts["http"]))"
    // The rules count per minute: start early in one, so that every request falls in it.
    let second = Int(Date().timeIntervalSince1970) % 60
    if second > 45 { try await Task.sleep(for: .seconds(61 - second)) }

    func get(_ path: String, _ headers: [(String, String)]) async throws -> Int {
      try await send(.GET, base + path, host: "api.shop.local", headers: headers).status
    }
    var perKey: [Int] = []
    for _ in 0..<6 { perKey.append(try await get("/items", [("x-api-key", "k1")])) }
    XCTAssertEqual(perKey, [200, 200, 200, 200, 200, 429], "5 a minute per key")
    var gold: [Int] = []
    for _ in 0..<5 { gold.append(try await get("/items", [("x-api-key", "k2"), ("x-plan", "gold")])) }
    XCTAssertEqual(
      gold, [200, 200, 200, 200, 429],
      "the gold rule outweighs the per-key one; the address (10) still counts")
    let search = try await get("/search", [("x-api-key", "k1")])
    XCTAssertEqual(search, 200, "/search has its own limit, a global cap")
    let metrics = gateway.metrics.exposition()
    XCTAssertTrue(metrics.contains(#"config="shop/trial",rule="api-key",outcome="shadowed"}"#), metrics)
  }

  func testWAFExample() async throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/modsecurity-crs/rules"),
      "Debian's modsecurity-crs is not installed")
    let upstream = try await DemoUpstream.start(name: "catalog", port: 9503)
    defer { Task { try? await upstream.close() } }
    let gateway = try await exampleGateway(
      "examples/waf", name: "waf", labels: ["gateway": "waf"], ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    let base = "http://127.0.0.1:\(try XCTUnwrap(gateway.boundPorts["http"]))"
    func get(_ path: String) async throws -> Int {
      try await send(.GET, base + path, host: "api.shop.local").status
    }
    let script = "?q=%3Cscript%3Ealert(1)%3C/script%3E"
    let statuses = [
      try await get("/products"), try await get("/products" + script), try await get("/health" + script),
      try await get("/orders?id=42"), try await get("/orders?id=abc"),
      try await get("/orders?id=%3Cscript%3E"),
    ]
    XCTAssertEqual(statuses, [200, 403, 200, 200, 422, 403], "as examples/waf/gateway.yaml says")
  }

  func testDLPExample() async throws {
    let upstream = try await DemoUpstream.start(name: "core-banking", port: 9504)
    defer { Task { try? await upstream.close() } }
    let gateway = try await exampleGateway(
      "examples/dlp", name: "dlp", labels: ["gateway": "dlp"], ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    let base = "http://127.0.0.1:\(try XCTUnwrap(gateway.boundPorts["http"]))"
    func body(_ path: String) async throws -> String {
      try await send(.GET, base + path, host: "api.bank.local").body
    }
    let expected = [
      ("/statements/4111111111111111", "XXXXXXXXXXXX1111"),
      ("/statements/4111111111111112", "4111111111111112"),  // fails Luhn: left alone
      ("/statements/123-45-6789", "XXX-XX-6789"),
      ("/cards/5555555555554444", "XXXXXXXXXXXX4444"),  // the listener's rule
      ("/accounts/5555555555554444", "5555555555554444"),  // no rule for /accounts
    ]
    for (path, shown) in expected {
      let echoed = try await body(path)
      XCTAssertTrue(echoed.contains(shown), "\(path): \(echoed)")
    }
  }

  func testTransformationsExample() async throws {
    let service = try await PythonService(
      arguments: ["examples/transformations/soap-service.py"], port: 9505)
    defer { Task { await service.stop() } }
    let gateway = try await exampleGateway(
      "examples/transformations", name: "transformations", labels: ["gateway": "transformations"],
      ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    let base = "http://127.0.0.1:\(try XCTUnwrap(gateway.boundPorts["http"]))"
    func post(_ path: String, _ json: String) async throws -> TestResponse {
      try await send(
        .POST, base + path, host: "api.shop.local", headers: [("content-type", "application/json")],
        body: json)
    }
    let sum = try await post("/calc/add", #"{"a": 40, "b": 2}"#)
    XCTAssertEqual(sum.status, 200, sum.body)
    XCTAssertEqual(sum.body, #"{"result": 42}"#, "JSON in, a SOAP envelope to the service, JSON back")
    XCTAssertEqual(sum.headers["content-type"].first, "application/json", "the stylesheet's media-type")
    let quotient = try await post("/calc/divide", #"{"a": 84, "b": 2}"#)
    XCTAssertEqual(quotient.body, #"{"result": 42}"#)
    let byZero = try await post("/calc/divide", #"{"a": 1, "b": 0}"#)
    XCTAssertEqual(byZero.status, 500, "the service's status for a SOAP fault is kept")
    XCTAssertEqual(byZero.body, #"{"error": "division by zero"}"#)
    let notJSON = try await post("/calc/add", #"{"a": 40,"#)
    XCTAssertEqual(notJSON.status, 400)
    XCTAssertTrue(notJSON.body.contains("could not be transformed"), notJSON.body)
  }

  func testExternalAuthExample() async throws {
    RegoForTests.located  // /reports runs an OPA policy: find rego-cpp before the gateway compiles it
    let upstream = try await DemoUpstream.start(name: "catalog", port: 9502)
    defer { Task { try? await upstream.close() } }
    let gateway = try await exampleGateway(
      "examples/external-auth", name: "auth", labels: ["gateway": "auth"], ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    let base = "http://127.0.0.1:\(try XCTUnwrap(gateway.boundPorts["http"]))"
    func get(_ path: String, _ headers: [(String, String)] = []) async throws -> TestResponse {
      try await send(.GET, base + path, host: "api.shop.local", headers: headers)
    }
    let anonymous = try await get("/items")
    XCTAssertEqual(anonymous.status, 401)
    XCTAssertEqual(anonymous.headers["www-authenticate"].first, "API-Key header=\"api-key\"")
    let web = try await get("/items", [("api-key", "k-web-7f3a9c2e41"), ("x-user-id", "admin")])
    XCTAssertEqual(web.status, 200, web.body)
    XCTAssertEqual(web.upstreamHeader("x-user-id"), ["web-shop"])
    XCTAssertEqual(web.upstreamHeader("x-plan"), ["gold"])
    let partner = try await get("/items", [("api-key", "k-acme-5d81b0e6c4")])
    XCTAssertEqual(partner.upstreamHeader("x-user-id"), ["partner-acme"], "a key kept as its SHA-256")
    let staff = try await get(
      "/staff/report", [("authorization", "Basic " + Data("dana:secret123".utf8).base64EncodedString())])
    XCTAssertEqual(staff.status, 200, staff.body)
    let keyInstead = try await get("/staff/report", [("api-key", "k-web-7f3a9c2e41")])
    XCTAssertEqual(keyInstead.status, 401)
    let health = try await get("/health")
    XCTAssertEqual(health.status, 200)
    // A demo token, signed with the example's HS256 secret, valid until 2100.
    let token =
      "eyJhbGciOiJIUzI1NiIsImtpZCI6ImRlbW8tMSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5zaG9wLmxvY2FsIiwiYXVkIjoic2hvcC1hcGkiLCJzdWIiOiJkZW1vLXVzZXIiLCJlbWFpbCI6ImRlbW9Ac2hvcC5sb2NhbCIsImV4cCI6NDEwMjQ0NDgwMH0.eFyik0VaY1EHfr-NdwxLHqI89cSgCjyIKi0ytyBHp0w"
    let orders = try await get("/orders", [("authorization", "Bearer " + token)])
    XCTAssertEqual(orders.status, 200, orders.body)
    XCTAssertEqual(orders.upstreamHeader("x-user-id"), ["demo-user"])
    XCTAssertEqual(orders.upstreamHeader("x-email"), ["demo@shop.local"])
    let noToken = try await get("/orders")
    XCTAssertEqual(noToken.status, 401)

    // The stock API: OAuth2 access tokens with the stock:read scope. Demo tokens signed with the example's
    // HS256 secret (partner-api in auth.yaml), valid until 2100: acme's has stock:read, globex's has not.
    let acmeToken =
      "eyJhbGciOiJIUzI1NiIsImtpZCI6InBhcnRuZXJzLWRlbW8tMSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5wYXJ0bmVycy5sb2NhbCIsInN1YiI6InBhcnRuZXItYWNtZSIsInNjb3BlIjoic3RvY2s6cmVhZCBvcmRlcnM6cmVhZCIsImV4cCI6NDEwMjQ0NDgwMH0.K6wFa2iSmknnNJPFozSxPUvnbaIOg5lWK2-MUgQ2IjA"
    let globexToken =
      "eyJhbGciOiJIUzI1NiIsImtpZCI6InBhcnRuZXJzLWRlbW8tMSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5wYXJ0bmVycy5sb2NhbCIsInN1YiI6InBhcnRuZXItZ2xvYmV4Iiwic2NvcGUiOiJvcmRlcnM6cmVhZCIsImV4cCI6NDEwMjQ0NDgwMH0.bqkKW3n-p21mugQR2QrMSkUBtrqWnxBUiKPShz88LPk"
    let stockNoToken = try await get("/stock/items")
    XCTAssertEqual(stockNoToken.status, 401)
    XCTAssertEqual(stockNoToken.headers["www-authenticate"].first, "Bearer realm=\"portico\"")
    let stock = try await get(
      "/stock/items", [("authorization", "Bearer " + acmeToken), ("x-user-id", "admin")])
    XCTAssertEqual(stock.status, 200, stock.body)
    XCTAssertEqual(stock.upstreamHeader("x-user-id"), ["partner-acme"])
    let stockNoScope = try await get("/stock/items", [("authorization", "Bearer " + globexToken)])
    XCTAssertEqual(stockNoScope.status, 403, "a good token without stock:read")
    XCTAssertEqual(
      stockNoScope.headers["www-authenticate"].first,
      "Bearer realm=\"portico\", error=\"insufficient_scope\", scope=\"stock:read\"")

    let serviceDown = try await get("/partners/stock", [("authorization", "Bearer partner-token-acme")])
    XCTAssertEqual(serviceDown.status, 403, "the partners' service is not running yet: statusOnError")
    let service = try await PythonService(arguments: ["examples/external-auth/partner-auth.py"], port: 9503)
    defer { Task { await service.stop() } }
    let acme = try await get("/partners/stock", [("authorization", "Bearer partner-token-acme")])
    XCTAssertEqual(acme.status, 200, acme.body)
    XCTAssertEqual(acme.upstreamHeader("x-partner"), ["acme"])
    let globex = try await get("/partners/stock", [("authorization", "Bearer partner-token-globex")])
    XCTAssertEqual(globex.status, 403)
    XCTAssertEqual(globex.headers["x-reason"].first, "partner suspended")
    let stranger = try await get("/partners/stock", [("authorization", "Bearer guess")])
    XCTAssertEqual(stranger.status, 401)
    XCTAssertEqual(stranger.headers["www-authenticate"].first, "Bearer realm=\"partners\"")

    func warehouse(_ token: String?) async throws -> TestResponse {
      try await get("/warehouse/stock", token.map { [("authorization", "Bearer " + $0)] } ?? [])
    }
    let authzDown = try await warehouse("wh-token-north")
    XCTAssertEqual(authzDown.status, 403, "the warehouse server is not running yet: statusOnError")
    let authz = try await PythonService(arguments: ["examples/external-auth/warehouse-authz.py"], port: 9504)
    defer { Task { await authz.stop() } }
    // The gateway's gRPC client tries the server again after a back-off of up to about a second, and until
    // then fails the check at once, as while the server was down.
    var north = try await warehouse("wh-token-north")
    for _ in 0..<30 where north.status == 403 {
      try await Task.sleep(for: .milliseconds(100))
      north = try await warehouse("wh-token-north")
    }
    XCTAssertEqual(north.status, 200, north.body)
    XCTAssertEqual(north.upstreamHeader("x-warehouse"), ["north"])
    XCTAssertNil(north.upstreamHeader("authorization"), "the server's answer removes it upstream")
    XCTAssertEqual(north.headers["x-checked-by"].first, "warehouse-authz")
    let south = try await warehouse("wh-token-south")
    XCTAssertEqual(south.status, 403)
    XCTAssertEqual(south.headers["x-reason"].first, "warehouse closed")
    XCTAssertEqual(south.body, "the south warehouse is closed\n")
    for token in [nil, "guess"] {
      let refused = try await warehouse(token)
      XCTAssertEqual(refused.status, 401, "token \(token ?? "none")")
      XCTAssertEqual(refused.headers["www-authenticate"].first, "Bearer realm=\"warehouse\"")
    }

    func intranet(_ user: String, _ password: String) async throws -> Int {
      try await get(
        "/intranet", [("authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())]
      )
      .status
    }
    let directoryDown = try await intranet("dana", "secret123")
    XCTAssertEqual(directoryDown, 403, "the directory is not running yet: statusOnError")
    let slapd = try await Shell.runPolling("examples/external-auth/ldap/start-slapd.sh 9389")
    let slapdProcess = pid_t(slapd.split(separator: "\n").last.flatMap { Int32($0) } ?? 0)
    defer { if slapdProcess > 0 { kill(slapdProcess, SIGKILL) } }
    let member = try await intranet("dana", "secret123")
    XCTAssertEqual(member, 200)
    let outsider = try await intranet("eve", "secret456")
    XCTAssertEqual(outsider, 403)
    let wrong = try await intranet("dana", "secret456")
    XCTAssertEqual(wrong, 401)

    // The OPA policy: the finance team reads the reports, only its managers file them.
    func reports(filing: Bool, _ headers: [(String, String)]) async throws -> TestResponse {
      try await send(
        filing ? .POST : .GET, base + "/reports", host: "api.shop.local", headers: headers,
        body: filing ? "{}" : nil)
    }
    let finance = try await reports(filing: false, [("x-team", "finance")])
    XCTAssertEqual(finance.status, 200, finance.body)
    let noTeam = try await reports(filing: false, [])
    XCTAssertEqual(noTeam.status, 403, "the policy allows nothing else")
    let clerk = try await reports(filing: true, [("x-team", "finance")])
    XCTAssertEqual(clerk.status, 403, "filing a report takes a manager")
    let manager = try await reports(filing: true, [("x-team", "finance"), ("x-role", "manager")])
    XCTAssertEqual(manager.status, 200, manager.body)

    // The staff portal: a sign-in at the OpenID Connect provider, followed by hand as a browser would. The
    // application's URLs go to the gateway, the provider's to the provider.
    let provider = try await PythonService(arguments: ["-m", "oidc_provider_mock", "--port"], port: 9400)
    defer { Task { await provider.stop() } }
    let app = "http://api.shop.local:8080"
    func visit(_ url: String, cookie: String? = nil, form: String? = nil) async throws -> TestResponse {
      var headers = cookie.map { [("cookie", $0)] } ?? []
      if form != nil { headers.append(("content-type", "application/x-www-form-urlencoded")) }
      let local = url.hasPrefix(app)
      return try await send(
        form == nil ? .GET : .POST, local ? base + String(url.dropFirst(app.count)) : url,
        host: local ? "api.shop.local" : "127.0.0.1:9400", headers: headers, body: form)
    }
    func location(_ response: TestResponse) throws -> String {
      try XCTUnwrap(response.headers["location"].first, "a redirect: \(response.status) \(response.body)")
    }
    func cookie(_ name: String, setBy response: TestResponse) -> String? {
      response.headers["set-cookie"].first { $0.hasPrefix(name + "=") }
        .map { String($0.dropFirst(name.count + 1).prefix { $0 != ";" }) }
    }
    let start = try await visit(app + "/portal/orders")
    XCTAssertEqual(start.status, 302, start.body)
    let authorize = try location(start)
    XCTAssertTrue(authorize.hasPrefix("http://127.0.0.1:9400/oauth2/authorize?"), authorize)
    let signIn = try XCTUnwrap(cookie("portico-sign-in", setBy: start))
    let signedIn = try await visit(authorize, form: "sub=dana")
    XCTAssertEqual(signedIn.status, 302, signedIn.body)
    let callback = try location(signedIn)
    XCTAssertTrue(callback.hasPrefix(app + "/portal/callback?"), callback)
    let back = try await visit(callback, cookie: "portico-sign-in=" + signIn)
    XCTAssertEqual(back.status, 302, back.body)
    XCTAssertEqual(try location(back), app + "/portal/orders", "back where dana was going")
    let session = try XCTUnwrap(cookie("portico-session", setBy: back))
    let portal = try await visit(app + "/portal/orders", cookie: "portico-session=" + session)
    XCTAssertEqual(portal.status, 200, portal.body)
    XCTAssertEqual(portal.upstreamHeader("x-user-id"), ["dana"])
    let idToken = try XCTUnwrap(portal.upstreamHeader("x-id-token")?.first)
    let logout = try await visit(app + "/portal/logout", cookie: "portico-session=" + session)
    XCTAssertEqual(logout.status, 302, logout.body)
    let endSession = try location(logout)
    XCTAssertTrue(endSession.hasPrefix("http://127.0.0.1:9400/oauth2/end_session?"), endSession)
    let hint = URLComponents(string: endSession)?.queryItems?.first { $0.name == "id_token_hint" }
    XCTAssertEqual(hint?.value, idToken)
    XCTAssertEqual(cookie("portico-session", setBy: logout), "", "the session cookie is cleared")
  }

  func testPoliciesExample() async throws {
    var upstreams: [Channel] = []
    for (name, port) in [("orders", 9401), ("orders", 9402), ("orders-next", 9403), ("audit", 9404)] {
      upstreams.append(try await DemoUpstream.start(name: name, port: port))
    }
    defer { for upstream in upstreams { Task { try? await upstream.close() } } }
    let gateway = try await exampleGateway(
      "examples/policies", name: "policies", labels: ["gateway": "policies"], ports: ["http"])
    defer { Task { await gateway.shutdown() } }
    let base = "http://127.0.0.1:\(try XCTUnwrap(gateway.boundPorts["http"]))"

    let order = try await send(.GET, base + "/orders/1", host: "api.shop.local")
    XCTAssertEqual(order.status, 200)
    XCTAssertEqual(order.upstreamHeader("x-route"), ["orders"])
    XCTAssertEqual(order.upstreamHeader("x-client-address"), ["127.0.0.1"])
    XCTAssertEqual(order.upstreamHeader("x-portico-attempt-count"), ["1"])
    XCTAssertEqual(order.headers["x-served-by"], ["portico"])

    let flaky = try await send(.GET, base + "/flaky/2/\(UUID().uuidString)/x", host: "api.shop.local")
    XCTAssertEqual(flaky.status, 200)
    XCTAssertEqual(flaky.upstreamHeader("x-portico-attempt-count"), ["3"])

    let started = ContinuousClock.now
    let slow = try await send(.GET, base + "/slow/delay/3000", host: "api.shop.local")
    XCTAssertEqual(slow.status, 504)
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))

    let preflight = try await send(
      .OPTIONS, base + "/orders", host: "api.shop.local",
      headers: [("origin", "https://app.example"), ("access-control-request-method", "POST")])
    XCTAssertEqual(preflight.headers["access-control-allow-origin"], ["https://app.example"])

    let forged = try await send(
      .POST, base + "/orders", host: "api.shop.local", headers: [("origin", "https://evil.example")],
      body: "{}")
    XCTAssertEqual(forged.status, 403)
    let tooLarge = try await send(
      .POST, base + "/orders", host: "api.shop.local", body: String(repeating: "x", count: 1_100_000))
    XCTAssertEqual(tooLarge.status, 413, "the TrafficPolicy's body limit")
  }
}
