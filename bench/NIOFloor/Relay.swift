import NIOCore
import NIOPosix

/// One side of a relayed pair of connections: what it reads, its partner writes. Reads stop while the
/// partner cannot take more, so a slow reader on one side holds back the other.
final class RelayHandler: ChannelDuplexHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// This side's place in its pipeline: the partner writes through it (entering at this handler, not at
  /// the pipeline's tail) and resumes its reads.
  private var context: ChannelHandlerContext?
  private var partner: RelayHandler?
  /// What the client sent before the upstream connection was up. Unbounded: the upstream is on loopback
  /// and connects at once.
  private var heldBuffers: [ByteBuffer] = []
  private var isReadHeld = false

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
  }

  /// Pairs a client's handler with its upstream's, once the upstream has connected on the same loop.
  static func pair(client: RelayHandler, upstream: RelayHandler) {
    guard let clientContext = client.context, clientContext.channel.isActive else {
      // The client left while the upstream was connecting: nothing would ever close the upstream.
      upstream.context?.close(promise: nil)
      return
    }
    client.partner = upstream
    upstream.partner = client
    guard !client.heldBuffers.isEmpty else { return }
    for buffer in client.heldBuffers { upstream.send(buffer) }
    client.heldBuffers.removeAll()
    upstream.context?.flush()
  }

  private func send(_ buffer: ByteBuffer) {
    context?.write(wrapOutboundOut(buffer), promise: nil)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    if let partner {
      partner.send(buffer)
    } else {
      heldBuffers.append(buffer)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    partner?.context?.flush()
  }

  func channelInactive(context: ChannelHandlerContext) {
    // What was relayed before the close still reaches the partner: writes complete in order.
    if let partnerContext = partner?.context {
      let partnerChannel = partnerContext.channel
      partnerContext.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in
        partnerChannel.close(promise: nil)
      }
    }
    partner?.partner = nil
    partner = nil
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    // A reset or a TLS failure ends the pair; the partner follows from channelInactive.
    context.close(promise: nil)
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    // This side can take more again: the partner may read what it will be asked to write.
    if context.channel.isWritable { partner?.resumeReading() }
  }

  func read(context: ChannelHandlerContext) {
    if let partnerChannel = partner?.context?.channel, !partnerChannel.isWritable {
      isReadHeld = true
    } else {
      context.read()
    }
  }

  private func resumeReading() {
    guard isReadHeld, let context else { return }
    isReadHeld = false
    context.read()
  }
}

/// Relays each connection, byte for byte, to a connection of its own to the upstream.
enum Relay {
  /// Adds the relay to a client's connection (after TLS, if any) and connects its upstream.
  static func start(on client: Channel, upstreamPort: Int) throws {
    let loop = client.eventLoop
    // Both connections live on the client's event loop, so the handlers never leave it.
    let handlers = NIOLoopBound((client: RelayHandler(), upstream: RelayHandler()), eventLoop: loop)
    try client.pipeline.syncOperations.addHandler(handlers.value.client)
    ClientBootstrap(group: loop)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { upstream in
        upstream.eventLoop.makeCompletedFuture {
          try upstream.pipeline.syncOperations.addHandler(handlers.value.upstream)
        }
      }
      .connect(host: "127.0.0.1", port: upstreamPort)
      .whenComplete { result in
        switch result {
        case .success:
          RelayHandler.pair(client: handlers.value.client, upstream: handlers.value.upstream)
        case .failure:
          client.close(promise: nil)
        }
      }
  }
}
