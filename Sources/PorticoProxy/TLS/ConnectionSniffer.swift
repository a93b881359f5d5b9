import NIOCore
import NIOSSL
import NIOTLS

/// The first handler of a connection on a listener with TLS server-name chains. From the first byte it tells a
/// TLS handshake from plaintext HTTP. For TLS it reads the client's SNI name and picks the server-name chain for
/// it: a chain that terminates TLS puts its TLS handler in front of the connection's `DownstreamHandler`,
/// a passthrough chain has the `DownstreamHandler` relay the connection, ClientHello included, to an
/// upstream. Plaintext goes straight to the `DownstreamHandler` when the listener also serves plaintext,
/// and is closed otherwise.
final class ConnectionSniffer: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer

  /// A TLS record carrying a handshake message starts with this content type.
  private static let handshakeRecord: UInt8 = 0x16

  private let loop: LoopContext
  private let portName: String
  private let downstream: DownstreamHandler

  init(loop: LoopContext, portName: String, downstream: DownstreamHandler) {
    self.loop = loop
    self.portName = portName
    self.downstream = downstream
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
    let listener = loop.config.listeners[portName]
    let pipeline = context.pipeline.syncOperations
    do {
      if first == Self.handshakeRecord, let listener, !listener.tlsChains.isEmpty {
        downstream.tlsHandshakeStarted()
        let channel = context.channel
        let sni = ByteToMessageHandler(
          SNIHandler { [loop, portName, downstream] result in
            Self.selectChain(
              result, channel: channel, loop: loop, portName: portName, downstream: downstream)
          })
        try pipeline.addHandler(sni, position: .after(self))
      } else if listener?.servesPlaintext != true {
        context.close(promise: nil)
        return
      }
      context.fireChannelRead(data)
      pipeline.removeHandler(context: context, promise: nil)
    } catch {
      context.close(promise: nil)
    }
  }

  /// Sets the connection up for the chain of the client's SNI name, or closes it when no chain serves it.
  /// The SNI handler then passes on the bytes it has read, the ClientHello, and leaves.
  private static func selectChain(
    _ result: SNIResult, channel: Channel, loop: LoopContext, portName: String, downstream: DownstreamHandler
  ) -> EventLoopFuture<Void> {
    var serverName: String?
    if case .hostname(let name) = result { serverName = name }
    guard let chain = loop.config.listeners[portName]?.tlsChains.chain(forServerName: serverName) else {
      channel.close(promise: nil)
      return channel.eventLoop.makeSucceededVoidFuture()
    }
    do {
      switch chain.mode {
      case .terminate(let termination):
        try channel.pipeline.syncOperations.addHandler(
          NIOSSLServerHandler(context: termination.context), position: .before(downstream))
        downstream.useTLS(
          serverName: serverName, verifiesClients: termination.verifiesClients,
          verifySubjectAltNames: termination.verifySubjectAltNames)
      case .passthrough(let forward):
        downstream.startPassthrough(forward, serverName: serverName?.lowercased())
      }
    } catch {
      channel.close(promise: nil)
    }
    return channel.eventLoop.makeSucceededVoidFuture()
  }
}
