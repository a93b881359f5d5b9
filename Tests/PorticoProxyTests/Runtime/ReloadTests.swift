import AsyncHTTPClient
import Foundation
import NIOCore
import XCTest

@testable import PorticoProxy

final class ReloadTests: XCTestCase {
  static func config(body: String) -> String {
    gatewayManifest()
      + virtualHost("reload.test", routes: "  - {directResponseAction: {status: 200, body: \"\(body)\"}}")
  }

  func testAHundredReloadsUnderLoadFailNoRequest() async throws {
    let gateway = try await TestGateway { _ in Self.config(body: "v0") }
    addTeardownBlock { await gateway.stop() }
    let stop = ManagedFlag()
    let traffic = Task {
      try await withThrowingTaskGroup(of: [String].self) { group in
        for _ in 0..<8 {
          group.addTask {
            var seen: [String] = []
            while !stop.isSet {
              let response = try await send(.GET, gateway.base + "/", host: "reload.test")
              seen.append("\(response.status) \(response.body)")
            }
            return seen
          }
        }
        var all: [String] = []
        for try await seen in group { all += seen }
        return all
      }
    }
    for generation in 1...100 {
      try gateway.write(Self.config(body: "v\(generation)"))
      let outcome = await gateway.gateway.reload()
      XCTAssertEqual(outcome, .applied(generation: generation + 1))
    }
    try await Task.sleep(for: .milliseconds(50))
    stop.set()
    let seen = try await traffic.value
    XCTAssertGreaterThan(seen.count, 100)
    let unexpected = seen.filter { !$0.hasPrefix("200 v") }
    XCTAssertEqual(unexpected, [], "every request during reloads was answered by some generation")
    let final = try await send(.GET, gateway.base + "/", host: "reload.test")
    XCTAssertEqual(final.body, "v100")
    XCTAssertTrue(gateway.gateway.metrics.exposition().contains("portico_config_generation 101"))
  }

  func testAnInvalidChangeKeepsTheLastGoodConfigServing() async throws {
    let gateway = try await TestGateway { _ in Self.config(body: "good") }
    addTeardownBlock { await gateway.stop() }
    try gateway.write(Self.config(body: "good") + "kind: [unclosed\n", file: "config.yaml")
    guard case .rejected(let errors) = await gateway.gateway.reload() else {
      return XCTFail("the change must be rejected")
    }
    XCTAssertTrue(errors.contains { $0.contains("config.yaml:") }, "\(errors)")
    let response = try await send(.GET, gateway.base + "/", host: "reload.test")
    XCTAssertEqual(response.body, "good")
    XCTAssertEqual(gateway.gateway.activeConfig?.generation, 1)
    XCTAssertTrue(
      gateway.gateway.metrics.exposition().contains("portico_config_reloads_total{result=\"failure\"} 1"))

    try gateway.write(Self.config(body: "fixed"))
    let outcome = await gateway.gateway.reload()
    XCTAssertEqual(outcome, .applied(generation: 2))
    let fixed = try await send(.GET, gateway.base + "/", host: "reload.test")
    XCTAssertEqual(fixed.body, "fixed")
  }

  func testTheWatcherPicksUpAChangedFile() async throws {
    let gateway = try await TestGateway(
      upstreams: [], manifests: { _ in Self.config(body: "before") }, watch: true)
    addTeardownBlock { await gateway.stop() }
    try gateway.write(Self.config(body: "after-change"))
    var body = ""
    for _ in 0..<50 {
      body = try await send(.GET, gateway.base + "/", host: "reload.test").body
      if body == "after-change" { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    XCTAssertEqual(body, "after-change")
  }

  func testListenersAreAddedAndRemovedWithTheConfiguration() async throws {
    let gateway = try await TestGateway { _ in Self.config(body: "one") }
    addTeardownBlock { await gateway.stop() }
    XCTAssertEqual(Array(gateway.gateway.boundPorts.keys), ["http"])
    try gateway.write(
      """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: other, namespace: gateways}
      spec:
        ingressGatewaySelectors: [{portName: nothere, destinationSelectors: [{kubeServiceMatcher: {labels: {app: test}}}]}]
        connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {namespaces: ["*"], labels: {test: "yes"}}}]}}]
      """)
    _ = await gateway.gateway.reload()
    XCTAssertEqual(
      Array(gateway.gateway.boundPorts.keys), [], "no VirtualGateway asks for the http port any more")
  }
}

final class ManagedFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
  func set() {
    lock.lock()
    value = true
    lock.unlock()
  }
}
