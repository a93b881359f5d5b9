import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// Every action through a real listener: direct responses, each redirect field, forwarding with path
/// rewrites and proxy headers, and 404s.
final class ActionTests: XCTestCase {
  var gateway: TestGateway!

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "shop.test",
          options:
            "  options: {trafficPolicy: {headerManipulation: {appendResponseHeaders: {x-host-level: yes}}}}",
          routes: """
              - {name: direct, matchers: [{uri: {exact: /direct}}], directResponseAction: {status: 418, body: "short and stout"}}
              - {name: empty, matchers: [{uri: {exact: /empty}}], directResponseAction: {status: 204}}
              - {name: default-redirect, matchers: [{uri: {exact: /moved}}], redirectAction: {pathRedirect: /new}}
              - name: every-field
                matchers: [{uri: {prefix: /old/}}]
                redirectAction: {hostRedirect: elsewhere.test, prefixRewrite: /new/, responseCode: TEMPORARY_REDIRECT, stripQuery: true, portRedirect: 8443}
              - {name: https, matchers: [{uri: {prefix: /secure}}], redirectAction: {httpsRedirect: true, responseCode: FOUND}}
              - {name: keep-all, matchers: [{uri: {prefix: /same}}], redirectAction: {responseCode: SEE_OTHER}}
              - {name: permanent, matchers: [{uri: {exact: /p}}], redirectAction: {pathRedirect: "/q?x=1", responseCode: PERMANENT_REDIRECT}}
              - name: api
                matchers: [{uri: {prefix: /api/v1}}]
                options: {headerManipulation: {appendRequestHeaders: {x-route: api}, removeResponseHeaders: [x-upstream]}}
                routeAction:
                  pathRewrite: /
                  destinations: [{staticDestination: {name: echo}, options: {headerManipulation: {appendRequestHeaders: {x-destination: echo}}}}]
              - name: exact-rewrite
                matchers: [{uri: {exact: /exact}}]
                routeAction: {pathRewrite: /elsewhere, destinations: [{staticDestination: {name: echo}}]}
              - {name: echo, matchers: [{uri: {prefix: /}}], routeAction: {destinations: [{staticDestination: {name: echo}}]}}
            """)
    }
  }

  override func tearDown() async throws { await gateway.stop() }

  func testDirectResponses() async throws {
    let teapot = try await send(.GET, gateway.base + "/direct", host: "shop.test")
    XCTAssertEqual(teapot.status, 418)
    XCTAssertEqual(teapot.body, "short and stout")
    XCTAssertEqual(teapot.headers.first(name: "x-host-level"), "yes")
    let empty = try await send(.GET, gateway.base + "/empty", host: "shop.test")
    XCTAssertEqual(empty.status, 204)
    XCTAssertEqual(empty.body, "")
  }

  func testRedirectFields() async throws {
    let moved = try await send(.GET, gateway.base + "/moved?a=1", host: "shop.test:8080")
    XCTAssertEqual(moved.status, 301, "MOVED_PERMANENTLY is the default")
    XCTAssertEqual(moved.headers.first(name: "location"), "http://shop.test:8080/new?a=1")

    let everything = try await send(.GET, gateway.base + "/old/thing?drop=me", host: "shop.test")
    XCTAssertEqual(everything.status, 307)
    XCTAssertEqual(everything.headers.first(name: "location"), "http://elsewhere.test:8443/new/thing")

    let secure = try await send(.GET, gateway.base + "/secure/page?k=v", host: "shop.test:8080")
    XCTAssertEqual(secure.status, 302)
    XCTAssertEqual(secure.headers.first(name: "location"), "https://shop.test/secure/page?k=v")

    let same = try await send(.GET, gateway.base + "/same/path?q=1", host: "shop.test")
    XCTAssertEqual(same.status, 303)
    XCTAssertEqual(
      same.headers.first(name: "location"), "http://shop.test/same/path?q=1",
      "only responseCode keeps everything")

    let permanent = try await send(.GET, gateway.base + "/p?old=1", host: "shop.test")
    XCTAssertEqual(permanent.status, 308)
    XCTAssertEqual(permanent.headers.first(name: "location"), "http://shop.test/q?x=1")
  }

  func testForwardingRewritesThePathAndAddsProxyHeaders() async throws {
    let response = try await send(
      .GET, gateway.base + "/api/v1/items?page=2", host: "shop.test",
      headers: [("connection", "keep-alive, x-hop"), ("x-hop", "secret"), ("x-forwarded-for", "203.0.113.9")])
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.json["path"] as? String, "/items")
    XCTAssertEqual(response.json["query"] as? String, "page=2")
    XCTAssertEqual(response.upstreamHeader("host"), ["shop.test"], "Host is kept")
    XCTAssertEqual(response.upstreamHeader("x-forwarded-for"), ["203.0.113.9, 127.0.0.1"])
    XCTAssertEqual(response.upstreamHeader("x-forwarded-proto"), ["http"])
    XCTAssertEqual(response.upstreamHeader("x-forwarded-host"), ["shop.test"])
    XCTAssertNil(response.upstreamHeader("x-hop"), "headers named by Connection are hop-by-hop")
    XCTAssertNil(response.upstreamHeader("connection"))
    XCTAssertEqual(response.upstreamHeader("x-route"), ["api"])
    XCTAssertEqual(response.upstreamHeader("x-destination"), ["echo"])
    let generated = try XCTUnwrap(response.upstreamHeader("x-request-id")?.first)
    XCTAssertNotNil(UUID(uuidString: generated), generated)
    let logged = await gateway.accessLog().last
    XCTAssertEqual(logged?["request_id"] as? String, generated, "the log names the ID the upstream saw")
    XCTAssertEqual(response.headers.first(name: "x-host-level"), "yes")
    XCTAssertNil(response.headers.first(name: "x-upstream"), "the route removed it from the response")
    XCTAssertFalse(generated.isEmpty)

    let root = try await send(.GET, gateway.base + "/api/v1", host: "shop.test")
    XCTAssertEqual(root.json["path"] as? String, "/", "a rewrite never leaves an empty path or //")
    let exact = try await send(.GET, gateway.base + "/exact?z=1", host: "shop.test")
    XCTAssertEqual(exact.json["path"] as? String, "/elsewhere")
    XCTAssertEqual(exact.json["query"] as? String, "z=1")
  }

  func testRequestIDIsKeptWhenPresent() async throws {
    let response = try await send(
      .GET, gateway.base + "/x", host: "shop.test", headers: [("x-request-id", "abc-123")])
    XCTAssertEqual(response.upstreamHeader("x-request-id"), ["abc-123"])
    let log = await gateway.accessLog().last
    XCTAssertEqual(log?["request_id"] as? String, "abc-123")
  }

  func testBodiesAndMethodsPassThrough() async throws {
    let post = try await send(
      .POST, gateway.base + "/upload", host: "shop.test", body: String(repeating: "z", count: 100_000))
    XCTAssertEqual(post.json["bodyBytes"] as? Int, 100_000)
    XCTAssertEqual(post.json["method"] as? String, "POST")
    let head = try await send(.HEAD, gateway.base + "/anything", host: "shop.test")
    XCTAssertEqual(head.status, 200)
    XCTAssertEqual(head.body, "")
    let after = try await send(.GET, gateway.base + "/after-head", host: "shop.test")
    XCTAssertEqual(after.json["path"] as? String, "/after-head", "the connection is reusable after HEAD")
  }

  func testNoHostAndNoRouteAnswer404WithAFlag() async throws {
    let noHost = try await send(.GET, gateway.base + "/", host: "unknown.test")
    XCTAssertEqual(noHost.status, 404)
    let log = await gateway.accessLog()
    XCTAssertEqual(log.last?["flags"] as? String, "NH")
    XCTAssertEqual(log.last?["status"] as? Int, 404)
  }
}

final class HTTPSRedirectTests: XCTestCase {
  func testAnHTTPSRedirectListenerSendsEverythingToHTTPS() async throws {
    let gateway = try await TestGateway { _ in
      """
      apiVersion: portico.dev/v1
      kind: VirtualGateway
      metadata: {name: redirect, namespace: gateways}
      spec:
        ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: test}}}]}]
        connectionHandlers:
        - connectionOptions: {httpsRedirect: true}
          http: {routeConfig: [{virtualHostSelector: {namespaces: ["*"], labels: {test: "yes"}}}]}
      ---

      """ + virtualHost("secure.test", routes: "  - {directResponseAction: {status: 200}}")
    }
    addTeardownBlock { await gateway.stop() }
    let response = try await send(.GET, gateway.base + "/a/b?c=d", host: "secure.test:8080")
    XCTAssertEqual(response.status, 301)
    XCTAssertEqual(response.headers.first(name: "location"), "https://secure.test/a/b?c=d")
  }
}

final class RequestIDTests: XCTestCase {
  func testGeneratedIDsAreDistinctVersion4UUIDs() {
    var generator = LoopRandom()
    var seen: Set<String> = []
    for _ in 0..<10_000 {
      let id = generator.requestID().text
      XCTAssertNotNil(UUID(uuidString: id), id)
      XCTAssertEqual(Array(id)[14], "4", id)
      XCTAssertTrue("89ab".contains(Array(id)[19]), id)
      seen.insert(id)
    }
    XCTAssertEqual(seen.count, 10_000)
  }

  func testAnIDIsWrittenAsItsText() {
    var generator = LoopRandom()
    for id in [generator.requestID(), RequestID(randomHigh: 0, low: 0), RequestID(randomHigh: ~0, low: ~0)] {
      var buffer = ByteBuffer()
      id.write(into: &buffer)
      XCTAssertEqual(String(buffer: buffer), id.text)
      XCTAssertNotNil(UUID(uuidString: id.text), id.text)
    }
    XCTAssertEqual(RequestID(randomHigh: 0, low: 0).text, "00000000-0000-4000-8000-000000000000")
    XCTAssertEqual(RequestID(randomHigh: ~0, low: ~0).text, "ffffffff-ffff-4fff-bfff-ffffffffffff")
    var given = ByteBuffer()
    RequestID.given("abc-123").write(into: &given)
    XCTAssertEqual(String(buffer: given), "abc-123")
    XCTAssertTrue(RequestID.given("abc-123").isGiven)
    XCTAssertFalse(generator.requestID().isGiven)
  }
}
