import AsyncHTTPClient
import Foundation
import NIOCore
import XCTest

@testable import PorticoProxy

final class AdminTests: XCTestCase {
  func testAdminEndpointsAndMetricsReflectTraffic() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "admin.test",
          routes: """
              - {name: api, matchers: [{uri: {prefix: /api}}], routeAction: {destinations: [{staticDestination: {name: echo}}]}}
              - {name: teapot, directResponseAction: {status: 418}}
            """)
    }
    addTeardownBlock { await gateway.stop() }
    for _ in 0..<5 { _ = try await send(.GET, gateway.base + "/api/x", host: "admin.test") }
    for _ in 0..<3 { _ = try await send(.GET, gateway.base + "/other", host: "admin.test") }
    let admin = "http://127.0.0.1:\(gateway.adminPort)"

    let ready = try await send(.GET, admin + "/ready", host: "admin")
    XCTAssertEqual(ready.status, 200)
    let health = try await send(.GET, admin + "/healthz", host: "admin")
    XCTAssertEqual(health.body, "ok\n")
    let dump = try await send(.GET, admin + "/config_dump", host: "admin").json
    XCTAssertEqual(dump["generation"] as? Int, 1)
    let listeners = (dump["config"] as? [String: Any])?["listeners"] as? [[String: Any]]
    XCTAssertEqual(listeners?.first?["portName"] as? String, "http")
    let status = try await send(.GET, admin + "/status", host: "admin").json
    let statuses = status["statuses"] as? [[String: Any]] ?? []
    XCTAssertTrue(statuses.contains { ($0["state"] as? String) == "Accepted" })
    let routes = try await send(.GET, admin + "/routes", host: "admin").body
    XCTAssertTrue(routes.contains("api"), routes)

    let metrics = try await send(.GET, admin + "/stats/prometheus", host: "admin").body
    XCTAssertTrue(
      metrics.contains(
        #"portico_requests_total{host="apps/admin-test",route="api",destination="static:apps/echo",status_class="2xx"} 5"#
      ),
      metrics)
    XCTAssertTrue(
      metrics.contains(
        #"portico_requests_total{host="apps/admin-test",route="teapot",destination="-",status_class="4xx"} 3"#
      ),
      metrics)
    XCTAssertTrue(
      metrics.contains(#"portico_request_duration_seconds_count{destination="static:apps/echo"} 5"#))
    XCTAssertTrue(metrics.contains("portico_config_generation 1"))

    let log = await gateway.accessLog()
    XCTAssertEqual(log.filter { $0["route"] as? String == "api" }.count, 5)
    let entry = try XCTUnwrap(log.first { $0["route"] as? String == "api" })
    XCTAssertEqual(entry["method"] as? String, "GET")
    XCTAssertEqual(entry["authority"] as? String, "admin.test")
    XCTAssertEqual(entry["path"] as? String, "/api/x")
    XCTAssertEqual(entry["status"] as? Int, 200)
    XCTAssertEqual(entry["upstream"] as? String, "127.0.0.1:\(gateway.port("echo"))")
    XCTAssertNotNil(entry["duration_ms"] as? Double)
    XCTAssertNotNil(entry["upstream_ms"] as? Double)
    XCTAssertGreaterThan(entry["bytes_out"] as? Int ?? 0, 0)
  }
}

final class ShutdownTests: XCTestCase {
  func testShutdownDrainsRequestsInFlight() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "drain.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
    }
    async let slow = send(.GET, gateway.base + "/delay/500/done", host: "drain.test")
    try await Task.sleep(for: .milliseconds(150))
    let port = gateway.port
    let stopped = Task { await gateway.stop() }
    let response = try await slow
    XCTAssertEqual(response.status, 200, "the request in flight finished")
    XCTAssertEqual(response.json["path"] as? String, "/delay/500/done")
    await stopped.value
    XCTAssertFalse(SlowReader.canConnect(port: port), "the listener is closed after shutdown")
  }

  /// An HTTP/2 client is told with GOAWAY; the stream it has open still gets its whole response.
  func testShutdownSendsGOAWAYAndFinishesOpenStreams() async throws {
    let gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "drain.test", routes: "  - routeAction: {destinations: [{staticDestination: {name: echo}}]}")
    }
    let url = gateway.base + "/delay/600/done"
    let client = Task.detached {
      try Shell.run("nghttp -v -H 'host: drain.test' \(url) 2>&1")
    }
    try await Task.sleep(for: .milliseconds(200))
    let started = ContinuousClock.now
    await gateway.stop()
    let out = try await client.value
    // Two phases: a GOAWAY promising every stream and a PING; once answered, a GOAWAY naming the last
    // stream served.
    XCTAssertEqual(out.components(separatedBy: "recv GOAWAY frame").count - 1, 2, out)
    XCTAssertTrue(out.contains("recv PING frame"), out)
    XCTAssertTrue(out.contains("(last_stream_id=13, error_code=NO_ERROR"), out)
    XCTAssertTrue(out.contains(":status: 200"), out)
    XCTAssertTrue(out.contains("done"), "the body arrived: \(out)")
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(3), "closed once the stream was done")
  }
}
