import Foundation
import XCTest

@testable import PorticoProxy

/// `mirror`: a share of requests is copied to a second destination, host marked `-shadow`, body and
/// all; its answer is dropped, and a slow or dead mirror changes nothing for the client.
final class MirrorTests: XCTestCase {
  var gateway: TestGateway!
  let mainRecorder = DemoUpstream.RequestRecorder()
  let shadowRecorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    let deadPort = try await closedPort()
    gateway = try await TestGateway(
      upstreams: ["main", "shadow", "slow-shadow"],
      behaviours: [
        "main": .init(recorder: mainRecorder),
        "shadow": .init(failWith: 500, recorder: shadowRecorder),
        "slow-shadow": .init(delay: .seconds(2)),
      ],
      manifests: { gateway in
        gatewayManifest()
          + staticDestination("main", ports: [gateway.port("main")])
          + staticDestination("shadow", ports: [gateway.port("shadow")])
          + staticDestination("slow-shadow", ports: [gateway.port("slow-shadow")])
          + staticDestination("dead", ports: [deadPort])
          + virtualHost(
            "mirror.test",
            routes: """
                - matchers: [{uri: {prefix: /half}}]
                  options: {mirror: {staticDestination: {name: shadow}, percentage: 50}}
                  routeAction: {destinations: [{staticDestination: {name: main}}]}
                - matchers: [{uri: {prefix: /slow}}]
                  options: {mirror: {staticDestination: {name: slow-shadow}}}
                  routeAction: {destinations: [{staticDestination: {name: main}}]}
                - matchers: [{uri: {prefix: /dead}}]
                  options: {mirror: {staticDestination: {name: dead}}}
                  routeAction: {destinations: [{staticDestination: {name: main}}]}
                - options: {mirror: {staticDestination: {name: shadow}}}
                  routeAction: {destinations: [{staticDestination: {name: main}}]}
              """)
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  func testCopiesReachTheMirrorAndItsAnswerIsDropped() async throws {
    let response = try await send(
      .POST, gateway.base + "/orders?x=1", host: "mirror.test", body: String(repeating: "m", count: 30_000))
    XCTAssertEqual(response.status, 200, "the mirror's 500 is not what the client sees")
    XCTAssertEqual(response.json["bodyBytes"] as? Int, 30_000)
    for _ in 0..<50 where shadowRecorder.requests.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
    let copy = try XCTUnwrap(shadowRecorder.requests.first)
    XCTAssertEqual(copy.uri, "/orders?x=1")
    XCTAssertEqual(copy.method, "POST")
    XCTAssertEqual(copy.bodyBytes, 30_000)
    XCTAssertEqual(copy.host, "mirror.test-shadow")
  }

  /// A mirror that takes two seconds, or refuses connections, does not slow the main request.
  func testSlowOrDeadMirrorDoesNotSlowTheRequest() async throws {
    for path in ["/slow", "/dead"] {
      let started = ContinuousClock.now
      for _ in 0..<5 {
        let response = try await send(.GET, gateway.base + path, host: "mirror.test")
        XCTAssertEqual(response.status, 200)
      }
      XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1500), path)
    }
  }

  func testPercentageOfRequestsIsCopied() async throws {
    for _ in 0..<200 {
      _ = try await send(.GET, gateway.base + "/half", host: "mirror.test")
    }
    try await Task.sleep(for: .milliseconds(200))
    let copies = shadowRecorder.requests.count
    XCTAssertEqual(Double(copies), 100, accuracy: 30, "\(copies) of 200 copied")
    XCTAssertEqual(mainRecorder.requests.count, 200)
  }
}
