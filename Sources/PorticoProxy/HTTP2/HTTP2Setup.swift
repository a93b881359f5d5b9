import NIOCore
import NIOHTTP2

/// Turns a client connection into an HTTP/2 one: NIO's HTTP/2 handler goes after the connection's
/// `DownstreamHandler`, and each stream gets a bridge and a `DownstreamHandler` of its own.
public enum HTTP2Setup {
  /// The first bytes of an HTTP/2 connection (RFC 9113 §3.4): how a cleartext client with prior
  /// knowledge starts.
  static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

  /// Streams a client may have open at once.
  static let maxConcurrentStreams = 100
  /// Flow-control window per stream and connection: enough for a fast client on a fast network.
  static let windowSize = 1 << 20

  /// NIO's HTTP/2 handler as the gateway configures it for clients. Public for the load benchmark's
  /// SwiftNIO floor, which serves HTTP/2 as the gateway does.
  public static func connectionConfiguration(limits: HTTP1Limits) -> NIOHTTP2Handler.ConnectionConfiguration {
    var configuration = NIOHTTP2Handler.ConnectionConfiguration()
    configuration.initialSettings = [
      HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
      HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeadBytes),
      HTTP2Setting(parameter: .initialWindowSize, value: windowSize),
    ]
    configuration.targetWindowSize = windowSize
    return configuration
  }

  /// The streams' side of `connectionConfiguration(limits:)`.
  public static var streamConfiguration: NIOHTTP2Handler.StreamConfiguration {
    var configuration = NIOHTTP2Handler.StreamConfiguration()
    configuration.targetWindowSize = windowSize
    return configuration
  }

  static func configure(connection: DownstreamHandler, context: ChannelHandlerContext) throws {
    let limits = connection.loop.services.limits
    let parent = NIOLoopBound(connection, eventLoop: context.eventLoop)
    let coalescer = HTTP2WriteCoalescer()
    connection.coalescer = coalescer
    try context.pipeline.syncOperations.addHandler(coalescer, position: .last)
    _ = try context.pipeline.syncOperations.configureHTTP2Pipeline(
      mode: .server, connectionConfiguration: connectionConfiguration(limits: limits),
      streamConfiguration: streamConfiguration,
      position: .last  // After the connection's handler and the coalescer.
    ) { stream in
      stream.eventLoop.makeCompletedFuture {
        try HTTP2StreamBridge.install(
          .server, limits: limits, then: DownstreamHandler(streamOf: parent.value), named: "downstream",
          on: stream)
      }
    }
    try context.pipeline.syncOperations.addHandler(HTTP2ConnectionWatcher(connection: parent.value))
  }

  /// The PING sent with the first GOAWAY of a graceful close: its answer means the client has seen it.
  static let goAwayPing = HTTP2PingData(withInteger: 0x706F_7274_6963_6F21)
}

/// Last on an HTTP/2 connection: sees the frames of the connection itself. A connection error (a flood of
/// resets or control frames, a protocol violation) has already been answered with GOAWAY by NIO's
/// handler; this closes the connection. The answer to a graceful close's PING starts its second phase.
final class HTTP2ConnectionWatcher: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame

  private weak var connection: DownstreamHandler?

  init(connection: DownstreamHandler) {
    self.connection = connection
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .ping(let ping, ack: true) = unwrapInboundIn(data).payload,
      ping.integer == HTTP2Setup.goAwayPing.integer
    {
      connection?.goAwayAcknowledged()
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    switch error {
    case is NIOHTTP2Errors.StreamError:
      // One stream's error (a stream opened after GOAWAY, say): NIO has reset that stream; the
      // connection and its other streams go on.
      return
    case is NIOHTTP2Errors.NoSuchStream,
      is NIOHTTP2Errors.RaisedGoawayLastStreamID
    where connection?.isClosingGracefully == true:
      // Frames for a stream the client opened after the final GOAWAY, which NIO takes for a connection
      // error (and the GOAWAY it then tries to send, which may not raise the last stream ID): the
      // connection is closing anyway, and the streams it promised to serve finish first.
      return
    default:
      context.close(promise: nil)
    }
  }
}
