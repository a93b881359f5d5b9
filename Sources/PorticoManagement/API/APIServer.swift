import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The REST API's HTTP/1.1 listener: reads each request in full (bounded), hands it to the router, and writes
/// the answer, streaming it when it is a watch.
final class APIServer: Sendable {
  static let maximumBodyBytes = 4 << 20
  private let router: APIRouter
  private let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>

  private init(
    router: APIRouter,
    channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
  ) {
    self.router = router
    self.channel = channel
  }

  static func bind(host: String, port: Int, tls: NIOSSLContext?, router: APIRouter, group: any EventLoopGroup)
    async throws -> APIServer
  {
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .bind(host: host, port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
            wrappingChannelSynchronously: channel)
        }
      }
    return APIServer(router: router, channel: channel)
  }

  var port: Int? { channel.channel.localAddress?.port }

  /// Accepts connections until the listener is closed.
  func serve() async throws {
    try await channel.executeThenClose { connections in
      try await withThrowingDiscardingTaskGroup { group in
        for try await connection in connections {
          group.addTask { await self.serve(connection) }
        }
      }
    }
  }

  func close() async { try? await channel.channel.close() }

  private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
    try? await connection.executeThenClose { inbound, outbound in
      var head: HTTPRequestHead?
      var body = ByteBuffer()
      var tooLarge = false
      for try await part in inbound {
        switch part {
        case .head(let next):
          head = next
          body.clear()
          tooLarge = false
        case .body(var piece):
          if body.readableBytes + piece.readableBytes > Self.maximumBodyBytes {
            tooLarge = true
          } else {
            body.writeBuffer(&piece)
          }
        case .end:
          guard let head else { return }
          let response =
            tooLarge
            ? APIResponse.failure(.payloadTooLarge, reason: "RequestEntityTooLarge", "the body is over 4 MiB")
            : await router.handle(Self.request(head, body))
          try await write(response, keepAlive: head.isKeepAlive, to: outbound)
          if !head.isKeepAlive || response.stream != nil { return }
        }
      }
    }
  }

  private static func request(_ head: HTTPRequestHead, _ body: ByteBuffer) -> APIRequest {
    let uri = head.uri
    let path = String(uri.prefix { $0 != "?" })
    var query: [String: String] = [:]
    if let mark = uri.firstIndex(of: "?") {
      for pair in uri[uri.index(after: mark)...].split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1).map {
          String($0).removingPercentEncoding ?? String($0)
        }
        query[parts[0]] = parts.count > 1 ? parts[1] : ""
      }
    }
    return APIRequest(
      method: head.method, path: path.removingPercentEncoding ?? path, query: query, headers: head.headers,
      body: body)
  }

  private func write(
    _ response: APIResponse, keepAlive: Bool,
    to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
  ) async throws {
    var headers = HTTPHeaders()
    headers.add(name: "content-type", value: response.contentType)
    headers.add(name: "cache-control", value: "no-store")
    for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
    if let stream = response.stream {
      headers.add(name: "transfer-encoding", value: "chunked")
      try await outbound.write(
        .head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
      for await chunk in stream {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
      }
      try await outbound.write(.end(nil))
      return
    }
    headers.add(name: "content-length", value: String(response.body.count))
    if !keepAlive { headers.add(name: "connection", value: "close") }
    try await outbound.write(
      .head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
    try await outbound.write(.end(nil))
  }
}
