import NIOCore
import NIOHTTP2

/// One HTTP/2 connection to an upstream endpoint, shared by the requests of one event loop: each request
/// gets a stream of its own, bridged to the same `UpstreamHandler` an HTTP/1.1 connection uses. It closes
/// itself once it has no streams and either the server has said GOAWAY or it has been idle too long.
final class HTTP2Session {
  /// Streams the gateway lets push to it: none are accepted, but the setting must be sent.
  static let maxPushedStreams = 100

  let channel: Channel
  private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
  private let limits: HTTP1Limits
  private let scheme: String
  private let idleTimeout: TimeAmount
  /// Streams open at once; the pool queues requests past it. (A server that allows fewer has NIO queue
  /// the rest.)
  private let maxStreams: Int
  /// Set once the server has said GOAWAY, or the connection failed: streams already open finish, new
  /// ones need a new connection.
  private(set) var isGoingAway = false
  /// Streams opened and not yet closed.
  private(set) var openStreams = 0
  private var idleTimer: Scheduled<Void>?
  private var onStreamClosed: (() -> Void)?

  /// Streams may be opened on it.
  var acceptsStreams: Bool { !isGoingAway && channel.isActive }

  /// Another stream may be opened now.
  var hasRoom: Bool { openStreams < maxStreams }

  private init(
    channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, limits: HTTP1Limits, scheme: String,
    idleTimeout: TimeAmount, maxStreams: Int
  ) {
    self.channel = channel
    self.multiplexer = multiplexer
    self.limits = limits
    self.scheme = scheme
    self.idleTimeout = idleTimeout
    self.maxStreams = maxStreams
  }

  /// Adds HTTP/2 to a new upstream connection (after TLS, if any).
  static func configure(_ channel: Channel) throws {
    var connection = NIOHTTP2Handler.ConnectionConfiguration()
    connection.initialSettings = [
      HTTP2Setting(parameter: .maxConcurrentStreams, value: maxPushedStreams),
      HTTP2Setting(parameter: .initialWindowSize, value: HTTP2Setup.windowSize),
      HTTP2Setting(parameter: .enablePush, value: 0),
    ]
    connection.targetWindowSize = HTTP2Setup.windowSize
    var stream = NIOHTTP2Handler.StreamConfiguration()
    stream.targetWindowSize = HTTP2Setup.windowSize
    try channel.pipeline.syncOperations.addHandler(HTTP2WriteCoalescer())
    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
      mode: .client, connectionConfiguration: connection, streamConfiguration: stream
    ) { pushed in
      // Push is turned off; a server that pushes anyway gets its stream closed.
      pushed.close()
    }
    try channel.pipeline.syncOperations.addHandler(HTTP2SessionWatcher())
  }

  /// The session of a connection `configure` set up. `onEnd` is called when it can take no more streams
  /// (GOAWAY, an error, close), `onStreamClosed` whenever one of its streams closes.
  static func start(
    on channel: Channel, limits: HTTP1Limits, scheme: String, idleTimeout: TimeAmount, maxStreams: Int,
    onEnd: @escaping (HTTP2Session) -> Void, onStreamClosed: @escaping () -> Void
  ) throws -> HTTP2Session {
    let operations = channel.pipeline.syncOperations
    let multiplexer = try operations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
    let session = HTTP2Session(
      channel: channel, multiplexer: multiplexer, limits: limits, scheme: scheme, idleTimeout: idleTimeout,
      maxStreams: maxStreams)
    session.onStreamClosed = onStreamClosed
    let watcher = try operations.handler(type: HTTP2SessionWatcher.self)
    watcher.onEnd = { [weak session] in
      guard let session else { return }
      session.isGoingAway = true
      onEnd(session)
      session.closeIfDone()
    }
    session.scheduleIdleClose()
    return session
  }

  /// Opens a stream and hands it to `waiter` as a connection that carries one exchange.
  func openStream(for waiter: ConnectionWaiter, failed: @escaping () -> Void) {
    let limits = self.limits
    let scheme = self.scheme
    openStreams += 1
    idleTimer?.cancel()
    idleTimer = nil
    multiplexer.createStreamChannel { stream in
      stream.eventLoop.makeCompletedFuture {
        try HTTP2StreamBridge.install(
          .client(scheme: scheme), limits: limits, then: UpstreamHandler(limits: limits), named: "upstream",
          on: stream)
      }
    }.assumeIsolated().whenComplete { result in
      switch result {
      case .success(let stream):
        stream.closeFuture.assumeIsolated().whenComplete { [weak self] _ in self?.streamClosed() }
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
        self.streamClosed()
        failed()
        waiter.connectionReady(.failure(.connectFailed(error)))
      }
    }
  }

  private func streamClosed() {
    openStreams -= 1
    onStreamClosed?()
    closeIfDone()
    if openStreams == 0, !isGoingAway { scheduleIdleClose() }
  }

  /// Takes no new streams, and closes with the last one it has.
  func finish() {
    isGoingAway = true
    closeIfDone()
  }

  /// A session that takes no new streams closes with its last one.
  private func closeIfDone() {
    if isGoingAway, openStreams == 0 { close() }
  }

  private func scheduleIdleClose() {
    idleTimer?.cancel()
    idleTimer = channel.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
      guard let self, self.openStreams == 0 else { return }
      self.isGoingAway = true
      self.close()
    }
  }

  func close() {
    idleTimer?.cancel()
    idleTimer = nil
    channel.close(promise: nil)
  }
}

/// Last on an upstream HTTP/2 connection: notices the server's GOAWAY, errors and the connection's end.
final class HTTP2SessionWatcher: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame

  /// Called once when the session should take no new streams.
  var onEnd: (() -> Void)?

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .goAway = unwrapInboundIn(data).payload { end() }
  }

  func channelInactive(context: ChannelHandlerContext) {
    end()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    // NIO reports errors of single streams here too, so the connection is not closed: the streams on it
    // finish (the failed one has been reset), new requests get a new connection, and this one closes
    // with its last stream. After a connection error NIO has sent GOAWAY and the server closes.
    end()
  }

  private func end() {
    let onEnd = self.onEnd
    self.onEnd = nil
    onEnd?()
  }
}
