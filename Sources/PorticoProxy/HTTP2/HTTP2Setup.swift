import NIOCore
import NIOHTTP2

/// Turns a client connection into an HTTP/2 one: NIO's HTTP/2 handler goes after the connection's
/// `DownstreamHandler`, and each stream gets the codec, the bridge and a `DownstreamHandler` of its own.
enum HTTP2Setup {
  /// The first bytes of an HTTP/2 connection (RFC 9113 §3.4): how a cleartext client with prior
  /// knowledge starts.
  static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

  /// Streams a client may have open at once.
  static let maxConcurrentStreams = 100
  /// Flow-control window per stream and connection: enough for a fast client on a fast network.
  static let windowSize = 1 << 20

  static func configure(connection: DownstreamHandler, context: ChannelHandlerContext) throws {
    let limits = connection.loop.services.limits
    var connectionConfiguration = NIOHTTP2Handler.ConnectionConfiguration()
    connectionConfiguration.initialSettings = [
      HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
      HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeadBytes),
      HTTP2Setting(parameter: .initialWindowSize, value: windowSize),
    ]
    connectionConfiguration.targetWindowSize = windowSize
    var streamConfiguration = NIOHTTP2Handler.StreamConfiguration()
    streamConfiguration.targetWindowSize = windowSize
    let parent = NIOLoopBound(connection, eventLoop: context.eventLoop)
    _ = try context.pipeline.syncOperations.configureHTTP2Pipeline(
      mode: .server, connectionConfiguration: connectionConfiguration,
      streamConfiguration: streamConfiguration,
      position: .last  // The connection's handler is last until now.
    ) { stream in
      stream.eventLoop.makeCompletedFuture {
        let operations = stream.pipeline.syncOperations
        try operations.addHandler(HTTP2StreamBridge(role: .server, limits: limits))
        try operations.addHandler(DownstreamHandler(streamOf: parent.value))
      }
    }
    try context.pipeline.syncOperations.addHandler(CloseOnConnectionError())
  }
}

/// Last on an HTTP/2 connection: a connection error (a flood of resets or control frames, a protocol
/// violation) has already been answered with GOAWAY by NIO's handler; this closes the connection.
final class CloseOnConnectionError: ChannelInboundHandler {
  typealias InboundIn = Never

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }
}
