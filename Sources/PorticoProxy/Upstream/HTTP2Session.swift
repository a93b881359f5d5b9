import NIOCore
import NIOHTTP2

/// One HTTP/2 connection to an upstream endpoint, shared by the requests of one event loop: each request
/// gets a stream of its own, bridged to the same `UpstreamHandler` an HTTP/1.1 connection uses.
final class HTTP2Session {
  /// Streams per connection, unless the server allows fewer (NIO queues streams past the server's limit).
  static let maxConcurrentStreams = 100

  let channel: Channel
  private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
  private let limits: HTTP1Limits
  private let scheme: String
  /// Set once the server has said GOAWAY: streams already open finish, new ones need a new connection.
  private(set) var isGoingAway = false

  /// Streams may be opened on it.
  var acceptsStreams: Bool { !isGoingAway && channel.isActive }

  private init(
    channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, limits: HTTP1Limits, scheme: String
  ) {
    self.channel = channel
    self.multiplexer = multiplexer
    self.limits = limits
    self.scheme = scheme
  }

  /// Adds HTTP/2 to a new upstream connection (after TLS, if any).
  static func configure(_ channel: Channel) throws {
    var connection = NIOHTTP2Handler.ConnectionConfiguration()
    connection.initialSettings = [
      HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
      HTTP2Setting(parameter: .initialWindowSize, value: HTTP2Setup.windowSize),
      HTTP2Setting(parameter: .enablePush, value: 0),
    ]
    connection.targetWindowSize = HTTP2Setup.windowSize
    var stream = NIOHTTP2Handler.StreamConfiguration()
    stream.targetWindowSize = HTTP2Setup.windowSize
    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
      mode: .client, connectionConfiguration: connection, streamConfiguration: stream
    ) { pushed in
      // Push is turned off; a server that pushes anyway gets its stream closed.
      pushed.close()
    }
    try channel.pipeline.syncOperations.addHandler(HTTP2SessionWatcher())
  }

  /// The session of a connection `configure` set up; `onEnd` is called once when it can take no more
  /// streams (GOAWAY or close).
  static func start(
    on channel: Channel, limits: HTTP1Limits, scheme: String, onEnd: @escaping (HTTP2Session) -> Void
  ) throws -> HTTP2Session {
    let operations = channel.pipeline.syncOperations
    let multiplexer = try operations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
    let session = HTTP2Session(channel: channel, multiplexer: multiplexer, limits: limits, scheme: scheme)
    let watcher = try operations.handler(type: HTTP2SessionWatcher.self)
    watcher.onEnd = { [weak session] goingAway in
      guard let session else { return }
      if goingAway { session.isGoingAway = true }
      onEnd(session)
    }
    return session
  }

  /// Opens a stream and hands it to `waiter` as a connection that carries one exchange.
  func openStream(for waiter: ConnectionWaiter, failed: @escaping () -> Void) {
    let limits = self.limits
    let scheme = self.scheme
    multiplexer.createStreamChannel { stream in
      stream.eventLoop.makeCompletedFuture {
        try stream.pipeline.syncOperations.addHandlers(
          HTTP2StreamBridge(role: .client(scheme: scheme), limits: limits), UpstreamHandler(limits: limits))
      }
    }.assumeIsolated().whenComplete { result in
      switch result {
      case .success(let stream):
        guard let handler = try? stream.pipeline.syncOperations.handler(type: UpstreamHandler.self),
          let context = try? stream.pipeline.syncOperations.context(handler: handler)
        else {
          stream.close(promise: nil)
          failed()
          return waiter.connectionReady(.failure(.connectFailed(ChannelError.ioOnClosedChannel)))
        }
        waiter.connectionReady(
          .success(UpstreamConnection(channel: stream, handler: handler, context: context)))
      case .failure(let error):
        failed()
        waiter.connectionReady(.failure(.connectFailed(error)))
      }
    }
  }

  func close() { channel.close(promise: nil) }
}

/// Last on an upstream HTTP/2 connection: notices the server's GOAWAY and the connection's end.
final class HTTP2SessionWatcher: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame

  /// Called with true for GOAWAY, false for the end of the connection.
  var onEnd: ((Bool) -> Void)?

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .goAway = unwrapInboundIn(data).payload { onEnd?(true) }
  }

  func channelInactive(context: ChannelHandlerContext) {
    let onEnd = self.onEnd
    self.onEnd = nil
    onEnd?(false)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    // A connection error has been answered with GOAWAY by NIO's handler; the connection is done.
    context.close(promise: nil)
  }
}
