import Foundation
import NIOCore
import PorticoTranslate
import XCTest

@testable import PorticoProxy

/// Wraps a route's request body in `<<` and `>>`, reading it whole: the body sent upstream is four bytes
/// longer than the client's. On routes named `wrap`.
final class RequestWrapFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestBody, .rewritesRequestBody]

  static func settings(for route: RouteConfig) -> Bool? { route.name == "wrap" ? true : nil }
  init(_ settings: Bool) {}

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end else { return .buffer }
    body = ByteBuffer(string: "<<" + String(buffer: body) + ">>")
    return .proceed
  }
}

/// Sends every piece of a route's response body twice, as it streams. On routes named `double`; it also
/// adds an identity field to the request sent upstream and strips the client's `authorization`.
final class ResponseDoubleFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead, .responseBody, .rewritesResponseBody]

  static func settings(for route: RouteConfig) -> Bool? { route.name == "double" ? true : nil }
  init(_ settings: Bool) {}

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    call.upstreamHeaders.remove("authorization")
    call.upstreamHeaders.add("x-user-id", "alice")
    return .proceed
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    var doubled = body
    doubled.writeImmutableBuffer(body)
    body = doubled
    return .proceed
  }
}

/// The filter layer inside a running gateway: bodies whose length filters change are framed anew (and
/// replayed by retries and mirrors as the filters made them), head edits reach the upstream, local answers
/// carry the response filters' fields, the request deadline covers the filters' time, `100 Continue`
/// waits for the head filters, and options the data plane does not enforce fail closed.
final class FilterServingTests: XCTestCase {
  var gateway: TestGateway!
  let recorder = DemoUpstream.RequestRecorder()
  let mirrorRecorder = DemoUpstream.RequestRecorder()

  override func setUp() async throws {
    gateway = try await TestGateway(
      upstreams: ["echo", "failing", "mirror"],
      behaviours: [
        "echo": .init(recorder: recorder), "failing": .init(failWith: 503, recorder: recorder),
        "mirror": .init(recorder: mirrorRecorder),
      ],
      manifests: { gateway in
        gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
          + staticDestination("failing", ports: [gateway.port("failing")])
          + staticDestination("mirror", ports: [gateway.port("mirror")])
          + virtualHost(
            "filters.test",
            options: """
                options:
                  trafficPolicy:
                    corsPolicy: {allowOrigins: [{exact: "https://app.example"}], allowMethods: [POST]}
                    csrf: {filterEnabled: true}
              """,
            routes: """
                - name: wrap
                  matchers: [{uri: {prefix: /wrap}}]
                  options: {mirror: {staticDestination: {name: mirror}}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - name: wrap
                  matchers: [{uri: {prefix: /retried}}]
                  options: {retries: {attempts: 1}}
                  routeAction: {destinations: [{staticDestination: {name: failing}}]}
                - name: double
                  matchers: [{uri: {prefix: /double}}]
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - name: slow
                  matchers: [{uri: {prefix: /slow}}]
                  options: {faultInjection: {fixedDelay: 5s}, requestTimeout: 300ms}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - name: delayed
                  matchers: [{uri: {prefix: /delayed}}]
                  options: {faultInjection: {fixedDelay: 300ms}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - name: guarded
                  matchers: [{uri: {prefix: /guarded}}]
                  options: {extauth: {configRef: {name: basic}}}
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
                - name: rest
                  routeAction: {destinations: [{staticDestination: {name: echo}}]}
              """)
      },
      configure: {
        $0.filterFamilies = FilterRegistry.families + [RequestWrapFilter.self, ResponseDoubleFilter.self]
      })
  }

  override func tearDown() async throws { await gateway.stop() }

  func testARequestBodyOfAnotherLengthIsFramedAnewAndMirroredAsMade() async throws {
    let response = try await send(.POST, gateway.base + "/wrap", host: "filters.test", body: "hello")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.json["bodyBytes"] as? Int, 9)
    XCTAssertNotEqual(response.upstreamHeader("content-length"), ["5"])
    let streamed = try await sendStreamed(
      .PUT, gateway.base + "/wrap", host: "filters.test", pieces: 3, size: 1000)
    XCTAssertEqual(streamed.json["bodyBytes"] as? Int, 3004)
    for _ in 0..<100 where mirrorRecorder.requests.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
    XCTAssertEqual(mirrorRecorder.requests.map(\.bodyBytes), [9, 3004])
  }

  func testARetryReplaysTheBodyTheFiltersMade() async throws {
    let response = try await send(.POST, gateway.base + "/retried", host: "filters.test", body: "hello")
    XCTAssertEqual(response.status, 503)
    XCTAssertEqual(recorder.requests.map(\.bodyBytes), [9, 9])
  }

  func testAResponseBodyOfAnotherLengthStreamsInChunksWithTheFiltersHeadEdits() async throws {
    let response = try await send(
      .GET, gateway.base + "/double", host: "filters.test", headers: [("authorization", "Bearer secret")])
    XCTAssertEqual(response.status, 200)
    XCTAssertNil(response.headers.first(name: "content-length"))
    let half = response.body.prefix(response.body.count / 2)
    XCTAssertEqual(response.body, String(half) + String(half))
    let echoed = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(half.utf8)) as? [String: Any])
    let headers = try XCTUnwrap(echoed["headers"] as? [String: [String]])
    XCTAssertEqual(headers["x-user-id"], ["alice"], "a filter's identity field reaches the upstream")
    XCTAssertNil(headers["authorization"], "a field a filter strips does not")
  }

  /// CORS runs first, so a later filter's refusal still carries the fields a browser needs to read it.
  func testALocalAnswerCarriesCORSFields() async throws {
    let response = try await send(
      .POST, gateway.base + "/rest", host: "filters.test", headers: [("origin", "https://app.example")])
    XCTAssertEqual(response.status, 403)
    XCTAssertEqual(response.body, "Invalid origin\n")
    XCTAssertEqual(response.headers["access-control-allow-origin"], ["https://app.example"])
    XCTAssertEqual(recorder.requests, [])
  }

  func testTheRequestDeadlineCoversTheFiltersTime() async throws {
    let started = ContinuousClock.now
    let response = try await send(.GET, gateway.base + "/slow", host: "filters.test")
    XCTAssertEqual(response.status, 504)
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
    XCTAssertEqual(recorder.requests, [], "the delayed request never goes upstream")
  }

  /// `100 Continue` is sent only once the request-head filters have passed the request: a refused request
  /// gets its final status instead, and a delayed one its `100` after the delay.
  func testContinueWaitsForTheHeadFilters() throws {
    let refused = try RawClient.exchange(
      Array(
        ("POST /rest HTTP/1.1\r\nHost: filters.test\r\nOrigin: https://elsewhere.example\r\n"
          + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n").utf8), port: gateway.port)
    XCTAssertTrue(refused.hasPrefix("HTTP/1.1 403"), refused)
    XCTAssertFalse(refused.contains("100 Continue"), refused)
    let socket = try LoopbackSocket.connect(port: gateway.port)
    defer { close(socket) }
    RawClient.sendAll(
      Array(
        "POST /delayed HTTP/1.1\r\nHost: filters.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
          .utf8),
      on: socket)
    XCTAssertEqual(
      RawClient.receive(on: socket, quiet: 0.1).text, "",
      "no 100 Continue while the fault filter holds the request")
    let later = RawClient.receive(on: socket, quiet: 0.5).text
    XCTAssertTrue(later.hasPrefix("HTTP/1.1 100 Continue"), later)
    RawClient.sendAll(Array("hello".utf8), on: socket)
    let final = RawClient.receive(on: socket, quiet: 0.5).text
    XCTAssertTrue(final.hasPrefix("HTTP/1.1 200"), final)
  }

  func testAnUnenforcedOptionFailsClosed() async throws {
    let response = try await send(.GET, gateway.base + "/guarded/data", host: "filters.test")
    XCTAssertEqual(response.status, 500)
    XCTAssertEqual(response.body, "invalid route configuration")
    XCTAssertEqual(recorder.requests, [], "nothing reaches the upstream")
    let open = try await send(.GET, gateway.base + "/other", host: "filters.test")
    XCTAssertEqual(open.status, 200)
  }
}
