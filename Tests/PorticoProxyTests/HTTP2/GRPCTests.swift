import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import XCTest

@testable import PorticoProxy

/// gRPC through the gateway, with grpc-swift on both sides: HTTP/2 to the client and to the upstream,
/// unary and bidirectional streaming calls, metadata and trailers carried across, the server's statuses
/// passed on, and the gateway's own errors and deadlines said as gRPC statuses.
final class GRPCTests: XCTestCase {
  var server: GRPCServer<HTTP2ServerTransport.Posix>!
  var serverTask: Task<Void, Error>!
  var gateway: TestGateway!

  override func setUp() async throws {
    let server = GRPCServer(
      transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
      services: [EchoService()])
    self.server = server
    serverTask = Task { try await server.serve() }
    guard let port = try await server.listeningAddress?.ipv4?.port else {
      return XCTFail("the gRPC server did not start")
    }
    let deadPort = try await closedPort()
    gateway = try await TestGateway { _ in
      gatewayManifest()
        + staticDestination("grpc", ports: [port], extra: ", protocol: GRPC")
        + staticDestination("dead", ports: [deadPort], extra: ", protocol: GRPC")
        + virtualHost(
          "grpc.test",
          routes: """
                - matchers: [{uri: {prefix: /shop.echo.v1.Echo/Slow}}]
                  options: {requestTimeout: 300ms}
                  routeAction: {destinations: [{staticDestination: {name: grpc}}]}
                - matchers: [{uri: {prefix: /shop.echo.v1.Echo/}}]
                  routeAction: {destinations: [{staticDestination: {name: grpc}}]}
                - matchers: [{uri: {prefix: /portico.test.Dead/}}]
                  routeAction: {destinations: [{staticDestination: {name: dead}}]}
            """)
        + virtualHost(
          "grpc-untimed.test",
          routes: """
                - options: {requestTimeout: 0s}
                  routeAction: {destinations: [{staticDestination: {name: grpc}}]}
            """)
    }
  }

  override func tearDown() async throws {
    await gateway?.stop()
    // Not graceful: the slow method would hold the server for seconds.
    serverTask?.cancel()
    _ = try? await serverTask?.value
  }

  /// A client that reaches the service through the gateway, with `grpc.test` as its authority.
  func withClient<Result: Sendable>(
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
  ) async throws -> Result {
    var config = HTTP2ClientTransport.Posix.Config.defaults
    config.http2.authority = "grpc.test"
    let transport = try HTTP2ClientTransport.Posix(
      target: .ipv4(address: "127.0.0.1", port: gateway.port), transportSecurity: .plaintext, config: config)
    return try await withGRPCClient(transport: transport, handleClient: body)
  }

  func testUnaryCallCarriesMetadataAndTrailers() async throws {
    let response = try await withClient { client in
      try await client.unary(
        request: ClientRequest(message: "hello", metadata: ["x-caller": "tests"]),
        descriptor: EchoService.get, serializer: StringCoder(), deserializer: StringCoder(),
        options: .defaults
      ) { $0 }
    }
    XCTAssertEqual(try response.message, "echo: hello from tests")
    XCTAssertEqual(Array(response.metadata[stringValues: "x-initial"]), ["yes"])
    XCTAssertEqual(Array(response.trailingMetadata[stringValues: "x-trailer"]), ["done"])
    let log = await gateway.accessLog()
    XCTAssertEqual(log.first?["path"] as? String, "/shop.echo.v1.Echo/Get")
    XCTAssertEqual(log.first?["status"] as? Int, 200)
  }

  /// Each message is answered before the next is sent: a gateway that held either direction back until
  /// its end would never finish this call.
  func testBidirectionalStreamingPingPong() async throws {
    let (answers, answered) = AsyncStream.makeStream(of: String.self)
    let count = 50
    let received = try await withClient { client in
      try await client.bidirectionalStreaming(
        request: StreamingClientRequest(of: String.self) { writer in
          var iterator = answers.makeAsyncIterator()
          for index in 0..<count {
            try await writer.write("ping \(index)")
            guard let answer = await iterator.next(), answer == "echo: ping \(index)" else {
              throw RPCError(code: .aborted, message: "out of step at \(index)")
            }
          }
        },
        descriptor: EchoService.update, serializer: StringCoder(), deserializer: StringCoder(),
        options: .defaults
      ) { response in
        var messages: [String] = []
        for try await message in response.messages {
          messages.append(message)
          answered.yield(message)
        }
        return messages
      }
    }
    XCTAssertEqual(received, (0..<count).map { "echo: ping \($0)" })
  }

  func testServerStatusReachesTheCaller() async throws {
    do {
      _ = try await withClient { client in
        try await client.unary(
          request: ClientRequest(message: "x"), descriptor: EchoService.fail, serializer: StringCoder(),
          deserializer: StringCoder(), options: .defaults
        ) { try $0.message }
      }
      XCTFail("the call should have failed")
    } catch let error as RPCError {
      XCTAssertEqual(error.code, .notFound)
      XCTAssertEqual(error.message, "no such thing: ünïcode")
    }
  }

  /// The route's timeout runs out before the server answers: the caller sees DEADLINE_EXCEEDED from the
  /// gateway, not a reset stream.
  func testRouteTimeoutIsDeadlineExceeded() async throws {
    let started = ContinuousClock.now
    let error = try await failure(of: EchoService.slow)
    XCTAssertEqual(error.code, .deadlineExceeded)
    XCTAssertEqual(error.message, "upstream request timeout")
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
    let flags = await gateway.accessLog().map { $0["flags"] as? String }
    XCTAssertEqual(flags, ["UT"])
  }

  func testGatewayErrorsAreGRPCStatuses() async throws {
    let unrouted = try await failure(
      of: MethodDescriptor(fullyQualifiedService: "other.Service", method: "Get"))
    XCTAssertEqual(unrouted.code, .unimplemented)
    XCTAssertEqual(unrouted.message, "no route matches")
    let dead = try await failure(
      of: MethodDescriptor(fullyQualifiedService: "portico.test.Dead", method: "Get"))
    XCTAssertEqual(dead.code, .unavailable)
    XCTAssertEqual(dead.message, "upstream connect error")
  }

  /// A caller's own `grpc-timeout` bounds the call at the gateway, on a route without a timeout of its
  /// own. Sent by curl, which (unlike a gRPC client) does not give up by itself, so the status it reads
  /// is the gateway's.
  func testCallerDeadlineFromGRPCTimeout() throws {
    let message = FileManager.default.temporaryDirectory.appendingPathComponent("grpc-\(UUID().uuidString)")
    // One uncompressed, empty gRPC message: flag 0, length 0.
    try Data([0, 0, 0, 0, 0]).write(to: message)
    defer { try? FileManager.default.removeItem(at: message) }
    let started = ContinuousClock.now
    let out = try Shell.run(
      "curl -sS -i --max-time 10 --http2-prior-knowledge -H 'host: grpc-untimed.test' "
        + "-H 'content-type: application/grpc' -H 'te: trailers' -H 'grpc-timeout: 200m' "
        + "--data-binary @\(message.path) \(gateway.base)/shop.echo.v1.Echo/Slow")
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), out)
    XCTAssertTrue(out.hasPrefix("HTTP/2 200"), out)
    XCTAssertTrue(out.contains("grpc-status: 4\r\n"), out)
    XCTAssertTrue(out.contains("grpc-message: upstream request timeout\r\n"), out)
    XCTAssertTrue(out.contains("content-type: application/grpc\r\n"), out)
    XCTAssertFalse(out.contains("content-length"), "a trailers-only response is one HEADERS frame: \(out)")

    // A deadline of zero has passed already: the call is not even forwarded.
    let expired = try Shell.run(
      "curl -sS -i --max-time 10 --http2-prior-knowledge -H 'host: grpc-untimed.test' "
        + "-H 'content-type: application/grpc' -H 'grpc-timeout: 0n' "
        + "--data-binary @\(message.path) \(gateway.base)/shop.echo.v1.Echo/Get")
    XCTAssertTrue(expired.contains("grpc-status: 4\r\n"), expired)
  }

  private func failure(of method: MethodDescriptor) async throws -> RPCError {
    do {
      _ = try await withClient { client in
        try await client.unary(
          request: ClientRequest(message: "x"), descriptor: method, serializer: StringCoder(),
          deserializer: StringCoder(), options: .defaults
        ) { try $0.message }
      }
    } catch let error as RPCError {
      return error
    }
    XCTFail("the call to \(method) should have failed")
    return RPCError(code: .unknown, message: "")
  }
}
