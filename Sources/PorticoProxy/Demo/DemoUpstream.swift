import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// A small upstream for trying Portico out and for its tests. It answers:
/// - `/status/CODE`: that status;
/// - `/delay/MILLISECONDS/...`: after that long, like the rest of the path;
/// - `/bytes/N`: N bytes, streamed in 64 KiB chunks;
/// - `/flaky/N/KEY/...`: 503 for the first N requests with that KEY (counted across the process), then
///   like the rest of the path (for trying out retries);
/// - anything else: what it received, as JSON (`server`, `protocol`, `method`, `path`, `query`, `headers`,
///   `bodyBytes`, and `connectionRequests`, the number of requests its connection has carried);
/// - a WebSocket handshake, on any path: a WebSocket that echoes every text and binary message.
/// With `http2` it speaks HTTP/2 only: cleartext with prior knowledge, or h2 over TLS.
/// Request bodies are counted as they stream in, never buffered. `behaviour` makes a server slow or failing
/// as a whole, for trying out balancing and outlier detection.
public enum DemoUpstream {
  public struct Behaviour: Sendable {
    /// Added before every answer.
    public var delay: TimeAmount = .zero
    /// Every answer has this status instead.
    public var failWith: Int?
    /// Pause before each socket read: a slow consumer of request bodies.
    public var readPause: TimeAmount = .zero
    /// Notes every request received, for checking what reached the upstream.
    public var recorder: RequestRecorder?
    /// Serve over TLS with this context.
    public var tls: NIOSSLContext?
    /// Speak HTTP/2 instead of HTTP/1.1.
    public var http2: Bool

    public init(
      delay: TimeAmount = .zero, failWith: Int? = nil, readPause: TimeAmount = .zero,
      recorder: RequestRecorder? = nil, tls: NIOSSLContext? = nil, http2: Bool = false
    ) {
      self.delay = delay
      self.failWith = failWith
      self.readPause = readPause
      self.recorder = recorder
      self.tls = tls
      self.http2 = http2
    }
  }

  /// The requests a demo upstream received, in order: method, target and body size.
  public final class RequestRecorder: Sendable {
    public struct Request: Sendable, Equatable {
      public var method: String
      public var uri: String
      public var bodyBytes: Int
      public var host: String = ""
    }

    private let box = Mutex<[Request]>([])

    public init() {}

    public var requests: [Request] { box.withLock { $0 } }

    func record(_ request: Request) { box.withLock { $0.append(request) } }

    public func reset() { box.withLock { $0.removeAll() } }
  }

  /// Requests seen per `/flaky/N/KEY` key.
  static let flakyCounts = Mutex<[String: Int]>([:])

  public static func start(
    name: String, host: String = "127.0.0.1", port: Int, behaviour: Behaviour = Behaviour(),
    group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> Channel {
    try await ServerBootstrap(group: group)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let tls = behaviour.tls {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
          }
          if behaviour.readPause > .zero {
            try channel.pipeline.syncOperations.addHandler(SlowReadHandler(pause: behaviour.readPause))
          }
          if behaviour.http2 {
            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
              mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()
            ) { [connection = ConnectionRequests()] stream in
              stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers(
                  HTTP2FramePayloadToHTTP1ServerCodec(),
                  DemoUpstreamHandler(name: name, behaviour: behaviour, connection: connection))
              }
            }
            return
          }
          let http = DemoUpstreamHandler(name: name, behaviour: behaviour)
          let webSocket = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
              channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(WebSocketEchoHandler())
              }
            })
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (
              upgraders: [webSocket],
              completionHandler: { context in
                // After the switch the request handler has nothing left to do.
                if let handler = try? context.pipeline.syncOperations.handler(type: DemoUpstreamHandler.self)
                {
                  context.pipeline.syncOperations.removeHandler(handler, promise: nil)
                }
              }
            ), withErrorHandling: true)
          try channel.pipeline.syncOperations.addHandler(http)
        }
      }
      .bind(host: host, port: port).get()
  }
}

/// Requests one connection has carried, counted on its event loop.
final class ConnectionRequests: @unchecked Sendable {
  var count = 0
}

final class DemoUpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  let name: String
  let behaviour: DemoUpstream.Behaviour
  private var head: HTTPRequestHead?
  private var bodyBytes = 0
  /// Requests this connection has carried, this one included.
  private let connection: ConnectionRequests

  /// `connection` is shared by the streams of one HTTP/2 connection.
  init(name: String, behaviour: DemoUpstream.Behaviour, connection: ConnectionRequests = ConnectionRequests())
  {
    self.name = name
    self.behaviour = behaviour
    self.connection = connection
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      self.head = head
      bodyBytes = 0
      connection.count += 1
    case .body(let buffer):
      bodyBytes += buffer.readableBytes
    case .end:
      guard let head else { return }
      self.head = nil
      behaviour.recorder?.record(
        .init(
          method: head.method.rawValue, uri: head.uri, bodyBytes: bodyBytes,
          host: head.headers.first(name: "host") ?? ""))
      if behaviour.delay > .zero {
        context.eventLoop.assumeIsolated().scheduleTask(in: behaviour.delay) {
          self.respond(to: head, context: context)
        }
      } else {
        respond(to: head, context: context)
      }
    }
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    let segments = path.split(separator: "/").map(String.init)
    if segments.first == "delay", segments.count >= 2, let milliseconds = Int64(segments[1]) {
      context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(milliseconds)) {
        self.answer(head, segments: Array(segments.dropFirst(2)), context: context)
      }
      return
    }
    answer(head, segments: segments, context: context)
  }

  private func answer(_ head: HTTPRequestHead, segments: [String], context: ChannelHandlerContext) {
    if let code = behaviour.failWith {
      return send(
        HTTPResponseStatus(statusCode: code), body: ByteBuffer(string: "\(code)\n"), head: head,
        context: context)
    }
    if segments.first == "flaky", segments.count >= 3, let failures = Int(segments[1]) {
      let seen = DemoUpstream.flakyCounts.withLock { counts in
        counts[segments[2], default: 0] += 1
        return counts[segments[2]]!
      }
      if seen <= failures {
        return send(
          .serviceUnavailable, body: ByteBuffer(string: "flaky \(seen)\n"), head: head, context: context)
      }
      return answer(head, segments: Array(segments.dropFirst(3)), context: context)
    }
    if segments.first == "status", segments.count >= 2, let code = Int(segments[1]) {
      return send(
        HTTPResponseStatus(statusCode: code), body: ByteBuffer(string: "\(code)\n"), head: head,
        context: context)
    }
    if segments.first == "bytes", segments.count >= 2, let count = Int(segments[1]) {
      return stream(count, head: head, context: context)
    }
    var headers: [String: [String]] = [:]
    for (name, value) in head.headers { headers[name.lowercased(), default: []].append(value) }
    let echo: [String: Any] = [
      "server": name, "protocol": "HTTP/\(head.version.major).\(head.version.minor)",
      "method": head.method.rawValue,
      "path": head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri,
      "query": head.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? "",
      "headers": headers, "bodyBytes": bodyBytes, "connectionRequests": connection.count,
    ]
    let data = (try? JSONSerialization.data(withJSONObject: echo, options: [.sortedKeys])) ?? Data()
    var buffer = context.channel.allocator.buffer(capacity: data.count + 1)
    buffer.writeBytes(data)
    buffer.writeString("\n")
    send(.ok, body: buffer, contentType: "application/json", head: head, context: context)
  }

  private func send(
    _ status: HTTPResponseStatus, body: ByteBuffer, contentType: String = "text/plain", head: HTTPRequestHead,
    context: ChannelHandlerContext
  ) {
    var headers = HTTPHeaders()
    headers.add(name: "content-type", value: contentType)
    headers.add(name: "content-length", value: String(body.readableBytes))
    headers.add(name: "x-upstream", value: name)
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
      promise: nil)
    if head.method != .HEAD, status != .noContent, status != .notModified {
      context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
    }
    finish(head, context: context)
  }

  /// Streams `count` bytes, writing the next chunk only when the previous one has left: a slow reader
  /// slows this server down instead of filling its memory.
  private func stream(_ count: Int, head: HTTPRequestHead, context: ChannelHandlerContext) {
    var headers = HTTPHeaders()
    headers.add(name: "content-length", value: String(count))
    headers.add(name: "x-upstream", value: name)
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))),
      promise: nil)
    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
    func writeFrom(_ remaining: Int) {
      guard remaining > 0, context.channel.isActive else {
        finish(head, context: context)
        return
      }
      let size = min(remaining, chunk.readableBytes)
      context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(chunk.getSlice(at: 0, length: size)!))))
        .assumeIsolated().whenSuccess { writeFrom(remaining - size) }
    }
    writeFrom(count)
  }

  private func finish(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
    let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    if !head.isKeepAlive {
      let channel = context.channel
      done.whenComplete { _ in channel.close(promise: nil) }
    }
  }
}

/// Delays every read of the socket: the server consumes what it is sent slowly.
final class SlowReadHandler: ChannelOutboundHandler {
  typealias OutboundIn = Any

  let pause: TimeAmount

  init(pause: TimeAmount) { self.pause = pause }

  func read(context: ChannelHandlerContext) {
    context.eventLoop.assumeIsolated().scheduleTask(in: pause) { context.read() }
  }
}

/// Echoes WebSocket messages back, answers pings, and closes when asked.
final class WebSocketEchoHandler: ChannelInboundHandler {
  typealias InboundIn = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    switch frame.opcode {
    case .text, .binary, .continuation:
      context.writeAndFlush(
        wrapOutboundOut(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)),
        promise: nil)
    case .ping:
      context.writeAndFlush(
        wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
    case .connectionClose:
      let channel = context.channel
      context.writeAndFlush(
        wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData))
      )
      .whenComplete { _ in channel.close(promise: nil) }
    default:
      break
    }
  }
}
