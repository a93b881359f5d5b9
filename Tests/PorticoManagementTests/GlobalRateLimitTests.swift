import AsyncHTTPClient
import Foundation
import NIOCore
import XCTest

/// Rate limits every gateway shares: two `portico gateway` processes counting in one Redis, or in a
/// three-master Redis Cluster, enforce one limit between them; with Redis gone, a route fails open or, with
/// `denyOnFail`, refuses, and counting resumes when Redis is back. Windows are a DAY long, so that no test
/// straddles one.
final class GlobalRateLimitTests: XCTestCase {
  private var folder = ""
  private var gateways: [PorticoProcess] = []

  override func setUp() async throws {
    folder = try temporaryDirectory("limits")
    try """
    apiVersion: portico.dev/v1
    kind: VirtualGateway
    metadata: {name: limits, namespace: shop}
    spec:
      options: {bindAddress: 127.0.0.1}
      ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {gateway: limits}}}]}]
      connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {labels: {site: limits}}}]}}]
    ---
    apiVersion: portico.dev/v1
    kind: RateLimitServerConfig
    metadata: {name: shared, namespace: shop}
    spec:
      raw:
        descriptors:
        - {key: generic_key, value: all, rateLimit: {unit: DAY, requestsPerUnit: 10}}
        - {key: user, rateLimit: {unit: DAY, requestsPerUnit: 3}}
    ---
    apiVersion: portico.dev/v1
    kind: VirtualHost
    metadata: {name: limits, namespace: shop, labels: {site: limits}}
    spec:
      domains: ["*"]
      routes:
      - matchers: [{uri: {prefix: /all}}]
        options:
          rateLimit:
            ratelimitServerConfigSelector: {}
            raw: {rateLimits: [{actions: [{genericKey: {descriptorValue: all}}]}]}
        directResponseAction: {status: 200, body: ok}
      - matchers: [{uri: {prefix: /user}}]
        options:
          rateLimit:
            ratelimitServerConfigSelector: {}
            raw: {rateLimits: [{actions: [{requestHeaders: {headerName: x-user, descriptorKey: user}}]}]}
        directResponseAction: {status: 200, body: ok}
      - matchers: [{uri: {prefix: /strict}}]
        options:
          rateLimit:
            ratelimitServerConfigSelector: {}
            raw: {rateLimits: [{actions: [{requestHeaders: {headerName: x-user, descriptorKey: user}}]}]}
          rateLimitSettings: {denyOnFail: true, requestTimeout: 200ms}
        directResponseAction: {status: 200, body: ok}
    """.write(toFile: folder + "/limits.yaml", atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    for gateway in gateways { await gateway.kill() }
    gateways = []
  }

  /// A gateway process counting in `store`; its HTTP and admin ports.
  private func startGateway(_ name: String, store: String) async throws -> (http: Int, admin: Int) {
    let (http, admin) = (try freePort(), try freePort())
    let gateway = try PorticoProcess(
      [
        "gateway", "--config", ".", "--name", name, "--namespace", "shop", "--label", "gateway=limits",
        "--port", "http=\(http)", "--admin", "127.0.0.1:\(admin)", "--access-log", "off", "--threads", "2",
        "--rate-limit-store", store,
      ], directory: folder, name: name)
    gateways.append(gateway)
    try await gateway.waitForLine(containing: "listening")
    return (http, admin)
  }

  private func status(_ port: Int, _ path: String, user: String? = nil) async throws -> Int {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    if let user { request.headers.add(name: "x-user", value: user) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    _ = try await response.body.collect(upTo: 1 << 16)
    return Int(response.status.code)
  }

  private func metrics(_ admin: Int) async throws -> String {
    let response = try await HTTPClient.shared.execute(
      HTTPClientRequest(url: "http://127.0.0.1:\(admin)/stats/prometheus"), timeout: .seconds(5))
    return String(buffer: try await response.body.collect(upTo: 1 << 22))
  }

  /// 20 requests to `/all`, alternating between the two gateways: the limit of 10 holds for both together.
  private func assertOneLimitBetween(_ first: Int, _ second: Int) async throws {
    var statuses: [Int] = []
    for index in 0..<20 {
      statuses.append(try await status(index.isMultiple(of: 2) ? first : second, "/all"))
    }
    XCTAssertEqual(statuses.filter { $0 == 200 }.count, 10, "\(statuses)")
    XCTAssertEqual(Array(statuses.prefix(10)), Array(repeating: 200, count: 10))
    for user in ["ann", "bob", "cyd"] {
      var answers: [Int] = []
      for index in 0..<5 {
        answers.append(try await status(index.isMultiple(of: 2) ? first : second, "/user", user: user))
      }
      XCTAssertEqual(answers, [200, 200, 200, 429, 429], user)
    }
  }

  func testTwoGatewaysShareOneLimitInRedis() async throws {
    let redis = try RedisServer()
    defer { redis.stop() }
    let a = try await startGateway("a", store: "redis://" + redis.address)
    let b = try await startGateway("b", store: "redis://" + redis.address)
    try await assertOneLimitBetween(a.http, b.http)
  }

  func testTwoGatewaysShareOneLimitInARedisCluster() async throws {
    let cluster = try RedisClusterServers()
    defer { cluster.stop() }
    let a = try await startGateway("a", store: cluster.url)
    let b = try await startGateway("b", store: cluster.url)
    try await assertOneLimitBetween(a.http, b.http)
  }

  func testWithRedisGoneRoutesFailOpenOrDenyAsConfiguredAndRecover() async throws {
    let redis = try RedisServer()
    defer { redis.stop() }
    let gateway = try await startGateway("a", store: "redis://" + redis.address)
    let counted = try await status(gateway.http, "/user", user: "ann")
    XCTAssertEqual(counted, 200)

    redis.kill()
    let started = ContinuousClock.now
    var open: [Int] = []
    var strict: [Int] = []
    for _ in 0..<5 {
      open.append(try await status(gateway.http, "/user", user: "ann"))
      strict.append(try await status(gateway.http, "/strict", user: "ann"))
    }
    XCTAssertEqual(open, Array(repeating: 200, count: 5), "fails open: Gloo's default")
    XCTAssertEqual(strict, Array(repeating: 429, count: 5), "denyOnFail")
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(3), "no request waits past requestTimeout")
    let failing = try await metrics(gateway.admin)
    XCTAssertTrue(failing.contains("portico_ratelimit_store_errors_total 10"), failing)

    // Memory stays flat while every request fails to reach Redis.
    func resident() throws -> Int {
      let status = try String(
        contentsOfFile: "/proc/\(gateways[0].process.processIdentifier)/status", encoding: .utf8)
      let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
      return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    for _ in 0..<300 { _ = try await status(gateway.http, "/user", user: "ann") }
    let before = try resident()
    for _ in 0..<1_000 { _ = try await status(gateway.http, "/user", user: "ann") }
    let after = try resident()
    XCTAssertLessThan(
      after - before, 8_192, "kB grown over 1,000 requests without Redis: \(before) → \(after)")

    // Redis back (empty): counting resumes within the reconnect back-off.
    try redis.start()
    try await eventually("counted again", timeout: .seconds(15)) {
      try await self.status(gateway.http, "/strict", user: "bob") == 200
    }
    var resumed: [Int] = []
    for _ in 0..<3 { resumed.append(try await status(gateway.http, "/strict", user: "bob")) }
    XCTAssertEqual(resumed, [200, 200, 429], "bob's count of 3: one before, two now, then refused")
  }
}
