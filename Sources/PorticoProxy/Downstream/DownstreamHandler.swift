import NIOCore
import NIOHTTP1

/// One client connection: turns each request into an `Exchange`, keeps pipelined requests in order, and
/// holds reads while the other side cannot keep up.
final class DownstreamHandler: ChannelDuplexHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// Why reads are held; reads resume when no reason is left.
  enum ReadHold: UInt8 {
    case upstreamBusy = 1
    case pipelined = 2
    case buffering = 4
  }

  let loop: LoopContext
  let portName: String
  private(set) var context: ChannelHandlerContext!
  private(set) var clientAddress = "unknown"
  private var exchange: Exchange?
  // Pipelined requests are rare; an idle connection should not carry a queue's storage.
  private var queued = CircularBuffer<HTTPServerRequestPart>(initialCapacity: 1)
  private var gate = ReadGate()

  init(loop: LoopContext, portName: String) {
    self.loop = loop
    self.portName = portName
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    if let address = context.channel.remoteAddress?.ipAddress { clientAddress = address }
  }

  func channelActive(context: ChannelHandlerContext) {
    loop.downstreamConnections[ObjectIdentifier(context.channel)] = self
    if loop.isDraining { context.close(promise: nil) }
    loop.services.metrics.activeConnections.increment()
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    loop.downstreamConnections[ObjectIdentifier(context.channel)] = nil
    loop.services.metrics.activeConnections.decrement()
    exchange?.downstreamClosed()
    exchange = nil
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    if let exchange, exchange.requestComplete || !queued.isEmpty {
      // A pipelined request: it waits until the current one is answered.
      queued.append(part)
      hold(.pipelined)
      return
    }
    handle(part)
  }

  private func handle(_ part: HTTPServerRequestPart) {
    switch part {
    case .head(let head):
      let exchange = Exchange(downstream: self, head: head)
      self.exchange = exchange
      exchange.start()
    case .body(let buffer):
      exchange?.requestBody(buffer)
    case .end(let trailers):
      exchange?.requestEnd(trailers)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    exchange?.downstreamReadComplete()
    context.fireChannelReadComplete()
  }

  func read(context: ChannelHandlerContext) {
    if gate.admit() { context.read() }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    exchange?.downstreamWritabilityChanged(isWritable: context.channel.isWritable)
    context.fireChannelWritabilityChanged()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }

  /// Stops taking new requests: an idle connection closes now, a busy one after its current response.
  func drain() {
    if let exchange {
      exchange.closeAfterResponse()
    } else {
      context.close(promise: nil)
    }
  }

  func hold(_ reason: ReadHold) { gate.hold(reason.rawValue) }

  func release(_ reason: ReadHold) {
    if gate.release(reason.rawValue) { context.read() }
  }

  func write(_ part: HTTPServerResponsePart) { context.write(wrapOutboundOut(part), promise: nil) }

  func flush() { context.flush() }

  /// Writes the end of a response; with `closing`, closes the connection once it is on the wire.
  func writeEnd(_ trailers: HTTPHeaders?, closing: Bool) {
    guard closing else {
      context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
      return
    }
    let promise = context.eventLoop.makePromise(of: Void.self)
    context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: promise)
    let channel = context.channel
    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
  }

  /// Closes the connection now (nothing more can be said on it).
  func abort() { context.close(promise: nil) }

  /// The exchange is over; unless the connection is closing, goes on with any pipelined request.
  func exchangeFinished(_ finished: Exchange, keepAlive: Bool) {
    guard exchange === finished else { return }
    exchange = nil
    // Without keep-alive the exchange has already arranged the close.
    guard keepAlive else { return }
    if loop.isDraining {
      context.close(promise: nil)
      return
    }
    while let part = queued.popFirst() {
      handle(part)
      if let exchange, exchange.requestComplete { break }
    }
    if queued.isEmpty { release(.pipelined) }
  }
}
