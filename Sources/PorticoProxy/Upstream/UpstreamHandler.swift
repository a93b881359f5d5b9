import NIOCore
import NIOHTTP1

/// Receives one upstream response at a time.
protocol UpstreamResponseReceiver: AnyObject {
  func upstreamResponseHead(_ head: HTTPResponseHead)
  func upstreamResponseBody(_ buffer: ByteBuffer)
  func upstreamResponseEnd(_ trailers: HTTPHeaders?)
  func upstreamReadComplete()
  func upstreamWritabilityChanged(isWritable: Bool)
  /// The connection closed or failed before the response ended.
  func upstreamFailed(_ error: Error?)
}

/// The last handler of an upstream connection: hands response parts to the exchange using the connection,
/// and holds reads while the client cannot take more (backpressure from a slow client).
final class UpstreamHandler: ChannelDuplexHandler {
  typealias InboundIn = HTTPClientResponsePart
  typealias OutboundIn = HTTPClientRequestPart
  typealias OutboundOut = HTTPClientRequestPart

  weak var receiver: UpstreamResponseReceiver?
  /// Called once when the channel closes, for the pool's bookkeeping.
  var onClose: (() -> Void)?
  private var gate = ReadGate()

  func holdReads(_ hold: Bool, context: ChannelHandlerContext) {
    if hold {
      gate.hold(1)
    } else if gate.release(1) {
      context.read()
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): receiver?.upstreamResponseHead(head)
    case .body(let buffer): receiver?.upstreamResponseBody(buffer)
    case .end(let trailers):
      let receiver = self.receiver
      self.receiver = nil
      receiver?.upstreamResponseEnd(trailers)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    receiver?.upstreamReadComplete()
  }

  func read(context: ChannelHandlerContext) {
    if gate.admit() { context.read() }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    receiver?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    let receiver = self.receiver
    self.receiver = nil
    receiver?.upstreamFailed(nil)
    let onClose = self.onClose
    self.onClose = nil
    onClose?()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    let receiver = self.receiver
    self.receiver = nil
    receiver?.upstreamFailed(error)
    context.close(promise: nil)
  }
}
