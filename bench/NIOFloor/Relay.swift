import NIOCore
import NIOPosix

/// One side of a relayed pair of connections: what it reads, its partner writes. Reads stop while the
/// partner cannot take more, so a slow reader on one side holds back the other.
final class RelayHandler: ChannelDuplexHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private var partner: Channel?
  private var partnerHandler: RelayHandler?
  /// Bytes read before the partner connected.
  private var held: [ByteBuffer] = []
  private var readHeld = false
  private var context: ChannelHandlerContext?

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
  }

  /// Pairs two handlers whose channels share an event loop.
  static func pair(
    _ first: RelayHandler, _ firstChannel: Channel, _ second: RelayHandler, _ secondChannel: Channel
  ) {
    guard firstChannel.isActive else {
      secondChannel.close(promise: nil)
      return
    }
    first.partner = secondChannel
    first.partnerHandler = second
    second.partner = firstChannel
    second.partnerHandler = first
    for handler in [first, second] where !handler.held.isEmpty {
      for buffer in handler.held {
        handler.partner!.write(buffer, promise: nil)
      }
      handler.held.removeAll()
      handler.partner!.flush()
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    if let partner {
      partner.write(buffer, promise: nil)
    } else {
      held.append(buffer)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    partner?.flush()
  }

  func channelInactive(context: ChannelHandlerContext) {
    // What was relayed before the close still reaches the partner: writes complete in order.
    if let partner {
      partner.writeAndFlush(ByteBuffer()).whenComplete { _ in partner.close(promise: nil) }
    }
    partner = nil
    partnerHandler = nil
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable { partnerHandler?.resumeReading() }
  }

  func read(context: ChannelHandlerContext) {
    if let partner, !partner.isWritable {
      readHeld = true
    } else {
      context.read()
    }
  }

  private func resumeReading() {
    guard readHeld, let context else { return }
    readHeld = false
    context.read()
  }
}

/// Relays each connection, byte for byte, to a connection of its own to the upstream.
enum Relay {
  /// Adds the relay to a connection (after TLS, if any) and connects its partner.
  static func start(on downstream: Channel, upstreamPort: Int) throws {
    let loop = downstream.eventLoop
    // Both connections live on the client's event loop, so the handlers never leave it.
    let handlers = NIOLoopBound((RelayHandler(), RelayHandler()), eventLoop: loop)
    try downstream.pipeline.syncOperations.addHandler(handlers.value.0)
    ClientBootstrap(group: loop)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { upstream in
        upstream.eventLoop.makeCompletedFuture {
          try upstream.pipeline.syncOperations.addHandler(handlers.value.1)
        }
      }
      .connect(host: "127.0.0.1", port: upstreamPort)
      .whenComplete { result in
        switch result {
        case .success(let upstream):
          RelayHandler.pair(handlers.value.0, downstream, handlers.value.1, upstream)
        case .failure:
          downstream.close(promise: nil)
        }
      }
  }
}
