import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Opens connections to upstream endpoints: TCP, then the TLS handshake when the upstream speaks TLS,
/// both within the connect timeout. Over TLS a connection is ready only once its handshake is done, so a
/// failed handshake is a failed connect (503, UF), never a reset in the middle of a request.
enum UpstreamDialer {
  /// Connects, adds the TLS handler when `tls` is set, then lets `configure` add the handlers that speak
  /// HTTP. With `requiredProtocol`, the TLS handshake must have agreed on it by ALPN.
  static func dial(
    host: String, port: Int, eventLoop: EventLoop, connectTimeout: TimeAmount, tls: UpstreamTLS?,
    requiredProtocol: String? = nil,
    configure: @escaping @Sendable (Channel) throws -> Void
  ) -> EventLoopFuture<Channel> {
    // SNI carries names, never addresses.
    let serverName = tls?.serverName ?? (isAddress(host) ? nil : host)
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(connectTimeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let tls {
            try channel.pipeline.syncOperations.addHandlers(
              NIOSSLClientHandler(context: tls.context, serverHostname: serverName),
              TLSHandshakeWatcher(eventLoop: channel.eventLoop))
          }
          try configure(channel)
        }
      }
    return bootstrap.connect(host: host, port: port).flatMap { channel -> EventLoopFuture<Channel> in
      guard tls != nil,
        let watcher = try? channel.pipeline.syncOperations.handler(type: TLSHandshakeWatcher.self)
      else { return channel.eventLoop.makeSucceededFuture(channel) }
      // The connect timeout covers the handshake too: a server that accepts and then says nothing must
      // not hold a place in the pool.
      let timer = channel.eventLoop.scheduleTask(in: connectTimeout) { channel.close(promise: nil) }
      return watcher.handshake.flatMapThrowing { negotiated in
        timer.cancel()
        if let requiredProtocol, negotiated != requiredProtocol {
          throw UpstreamDialFailure.protocolNotNegotiated(requiredProtocol)
        }
        return channel
      }.flatMapErrorThrowing { error in
        timer.cancel()
        channel.close(promise: nil)
        throw error
      }
    }
  }

  /// True for an IPv4 or IPv6 address literal.
  static func isAddress(_ host: String) -> Bool {
    (try? SocketAddress(ipAddress: host, port: 0)) != nil
  }
}

enum UpstreamDialFailure: Error, CustomStringConvertible {
  case protocolNotNegotiated(String)

  var description: String {
    switch self {
    case .protocolNotNegotiated(let name): "the upstream did not agree to \(name) by ALPN"
    }
  }
}

/// Right after the TLS handler of an upstream connection: completes `handshake` with the protocol ALPN
/// agreed on, or fails it if the connection ends first; then takes itself out of the pipeline.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer

  let handshake: EventLoopFuture<String?>
  /// Set until the handshake has completed or failed.
  private var promise: EventLoopPromise<String?>?

  init(eventLoop: EventLoop) {
    let promise = eventLoop.makePromise(of: String?.self)
    self.promise = promise
    handshake = promise.futureResult
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    context.fireUserInboundEventTriggered(event)
    guard case TLSUserEvent.handshakeCompleted(let negotiated) = event else { return }
    promise?.succeed(negotiated)
    promise = nil
    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    promise?.fail(ChannelError.ioOnClosedChannel)
    promise = nil
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    promise?.fail(error)
    promise = nil
    context.fireErrorCaught(error)
  }

  /// A connection that closes before it was ever active (refused, timed out) never says so above.
  func handlerRemoved(context: ChannelHandlerContext) {
    promise?.fail(ChannelError.ioOnClosedChannel)
    promise = nil
  }
}
