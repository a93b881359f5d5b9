import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// A WAF pool with one thread and room for one job: requests past it on WAF routes get 503 and are
/// counted, and routes without a WAF keep serving meanwhile.
final class WAFPoolTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/modsecurity-crs/rules"),
      "Debian's modsecurity-crs is not installed")
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "shop.test",
            routes: """
                - matchers: [{uri: {prefix: /inspected}}]
                  options: {waf: {coreRuleSet: {}}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      },
      configure: { options in
        options.wafThreads = 1
        options.wafQueueBound = 1
      })
  }

  override func tearDown() async throws { await gateway?.stop() }

  func testASaturatedPoolRefusesOnlyWAFRoutes() async throws {
    // A form of many fields: the Core Rule Set reads each of them, which keeps the one thread busy.
    let form = (0..<3000).map { "field\($0)=value-\($0)" }.joined(separator: "&")
    let base = gateway.base
    let (inspected, open) = try await withThrowingTaskGroup(of: (Bool, Int).self) { group in
      for index in 0..<60 {
        group.addTask {
          if index % 3 == 0 {
            return (false, try await send(.GET, base + "/plain/\(index)", host: "shop.test").status)
          }
          let response = try await send(
            .POST, base + "/inspected/\(index)", host: "shop.test",
            headers: [
              ("content-type", "application/x-www-form-urlencoded"), ("user-agent", "curl/8.0"),
              ("accept", "*/*"),
            ],
            body: form)
          return (true, response.status)
        }
      }
      var inspected: [Int] = []
      var open: [Int] = []
      for try await (isInspected, status) in group {
        if isInspected { inspected.append(status) } else { open.append(status) }
      }
      return (inspected, open)
    }
    XCTAssertEqual(Set(open), [200], "routes without a WAF keep serving")
    XCTAssertTrue(Set(inspected).isSubset(of: [200, 503]), "\(inspected)")
    let refused = inspected.filter { $0 == 503 }.count
    XCTAssertGreaterThan(refused, 0, "one thread with room for one job refuses some of 40 requests at once")
    XCTAssertGreaterThan(inspected.filter { $0 == 200 }.count, 0)
    let metrics = try await send(
      .GET, "http://127.0.0.1:\(gateway.adminPort)/stats/prometheus", host: "admin"
    ).body
    XCTAssertTrue(metrics.contains(#"outcome="overloaded"} \#(refused)"#), metrics)
    let flags = await gateway.accessLog().compactMap { $0["flags"] as? String }
    XCTAssertEqual(flags.filter { $0.contains("WAFO") }.count, refused)
  }

  /// A client that leaves while its request is being inspected: the check still running and phase 5 never
  /// touch the transaction at the same time (two WAF threads here), and the gateway keeps serving.
  func testClientsLeavingMidCheckDoNotBreakTheGateway() async throws {
    await gateway.stop()
    gateway = try await TestGateway(
      upstreams: ["echo"],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + virtualHost(
            "shop.test", options: "  options: {trafficPolicy: {waf: {coreRuleSet: {}}}}",
            routes: """
                - routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      },
      configure: { options in options.wafThreads = 2 })
    let form = "q=" + (0..<400).map { "1' OR '1'='1 UNION SELECT \($0)" }.joined(separator: "+")
    let requests =
      "GET /first HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n"
      + "POST /second HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: curl/8\r\nAccept: */*\r\n"
      + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)"
    for round in 0..<60 {
      let socket = try LoopbackSocket.connect(port: gateway.port)
      RawClient.sendAll(Array(requests.utf8), on: socket)
      // Gone before any answer, or just after the first.
      if round % 2 == 1 { _ = RawClient.receive(on: socket, quiet: 0.001) }
      close(socket)
    }
    let after = try await send(.GET, gateway.base + "/still-serving", host: "shop.test")
    XCTAssertEqual(after.status, 200)
  }
}
