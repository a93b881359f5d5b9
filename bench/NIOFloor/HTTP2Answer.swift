import NIOCore
import NIOHPACK
import NIOHTTP2
import PorticoProxy

/// Answers every stream itself with `200 ok`: the least work any proxy built on swift-nio-http2 does per
/// request (TLS, the HTTP/2 codec and NIO's per-stream channels), with no upstream at all.
final class AnswerHandler: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias OutboundOut = HTTP2Frame.FramePayload

  private static let head: HPACKHeaders = [
    ":status": "200", "content-type": "text/plain", "content-length": "2",
  ]
  private static let body = ByteBuffer(string: "ok")

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .headers(let headers) where headers.endStream:
      answer(context: context)
    case .data(let data) where data.endStream:
      answer(context: context)
    default:
      break
    }
  }

  private func answer(context: ChannelHandlerContext) {
    context.write(wrapOutboundOut(.headers(.init(headers: Self.head))), promise: nil)
    context.writeAndFlush(
      wrapOutboundOut(.data(.init(data: .byteBuffer(Self.body), endStream: true))), promise: nil)
  }
}

enum HTTP2Answer {
  /// Makes a connection (after TLS) an HTTP/2 server whose streams are answered by `AnswerHandler`, with
  /// the gateway's settings. The gateway's write coalescing is left out: the answers are written while
  /// NIO's handler reads, and it holds their flushes until the read is over (one `write` per ten requests
  /// with or without it, counted with `perf stat`).
  static func start(on connection: Channel) throws {
    _ = try connection.pipeline.syncOperations.configureHTTP2Pipeline(
      mode: .server, connectionConfiguration: HTTP2Setup.connectionConfiguration(limits: HTTP1Limits()),
      streamConfiguration: HTTP2Setup.streamConfiguration
    ) { stream in
      stream.eventLoop.makeCompletedFuture {
        try stream.pipeline.syncOperations.addHandler(AnswerHandler())
      }
    }
  }
}
