import NIOCore
import NIOHTTP2

/// Lets one HTTP/2 stream be served by the gateway's HTTP/1.1 machinery. On a client's stream (`server`)
/// the request's frames are read as HTTP/1.1 bytes by a `DownstreamHandler`, and the response it writes
/// leaves as frames; on a stream to an upstream (`client`) the request the exchange writes leaves as
/// frames, and the response's frames are read by an `UpstreamHandler`.
final class HTTP2StreamBridge: ChannelDuplexHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = HTTP2Frame.FramePayload

  enum Role {
    case server
    /// With the scheme the upstream connection speaks.
    case client(scheme: String)
  }

  private var decoder: HTTP2MessageDecoder
  private var encoder: HTTP2MessageEncoder
  private let isServer: Bool
  /// The last frame handed to the stream, so that a write that adds nothing completes after it.
  private var lastWrite: EventLoopFuture<Void>?

  /// Sets up one stream's pipeline: a bridge, then `handler`, which serves the stream's message. Both are
  /// named, so that NIO does not make up a name for each handler of each stream.
  static func install(
    _ role: Role, limits: HTTP1Limits, then handler: ChannelHandler, named name: String, on stream: Channel
  ) throws {
    let operations = stream.pipeline.syncOperations
    try operations.addHandler(HTTP2StreamBridge(role: role, limits: limits), name: "bridge")
    try operations.addHandler(handler, name: name)
  }

  init(role: Role, limits: HTTP1Limits) {
    switch role {
    case .server:
      isServer = true
      decoder = HTTP2MessageDecoder(kind: .request)
      encoder = HTTP2MessageEncoder(kind: .response)
    case .client(let scheme):
      isServer = false
      decoder = HTTP2MessageDecoder(kind: .response)
      encoder = HTTP2MessageEncoder(kind: .request(scheme: scheme))
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let payload = unwrapInboundIn(data)
    if isServer, case .headers(let headers) = payload {
      encoder.requestIsHEAD = encoder.requestIsHEAD || headers.headers.first(name: ":method") == "HEAD"
    }
    do {
      guard let bytes = try decoder.decode(payload, allocator: context.channel.allocator),
        bytes.readableBytes > 0
      else { return }
      context.fireChannelRead(wrapInboundOut(bytes))
    } catch {
      // A stream that cannot be read as a message is reset; the connection and its other streams go on.
      context.close(promise: nil)
    }
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    // Only the last frame of a write carries a promise: it completes after the ones before it.
    var held: HTTP2Frame.FramePayload?
    do {
      try encoder.encode(unwrapOutboundIn(data)) { frame in
        if let previous = held { context.write(wrapOutboundOut(previous), promise: nil) }
        held = frame
      }
    } catch {
      promise?.fail(error)
      context.close(promise: nil)
      return
    }
    if !isServer, encoder.method == .head { decoder.requestIsHEAD = true }
    if let last = held {
      let written = promise ?? context.eventLoop.makePromise(of: Void.self)
      context.write(wrapOutboundOut(last), promise: written)
      lastWrite = written.futureResult
    } else if let promise {
      // Completes once everything handed to the stream so far has been written.
      if let lastWrite { lastWrite.cascade(to: promise) } else { promise.succeed() }
    }
  }
}
