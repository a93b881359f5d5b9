import NIOCore

/// Receives one upstream response at a time.
protocol UpstreamResponseReceiver: AnyObject {
  func upstreamResponseHead(_ head: ResponseHead, framing: BodyFraming)
  func upstreamResponseBody(_ buffer: ByteBuffer)
  func upstreamResponseEnd(_ trailers: ByteBuffer?)
  func upstreamReadComplete()
  func upstreamWritabilityChanged(isWritable: Bool)
  /// The connection closed or failed before the response ended; an `HTTP1Error` means the response was
  /// invalid.
  func upstreamFailed(_ error: Error?)
}

/// The last handler of an upstream connection (or of an HTTP/2 stream, after its bridge): reads responses
/// and hands their parts to the exchange using the connection, and holds reads while the client cannot
/// take more (backpressure from a slow client).
final class UpstreamHandler: ChannelDuplexHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Held strongly while a response is expected; let go when it ends or the exchange detaches.
  private(set) var receiver: UpstreamResponseReceiver?
  /// Called once when the channel closes, for the pool's bookkeeping.
  var onClose: (() -> Void)?
  /// False once the connection has shown it cannot carry another request (bytes nobody asked for).
  private(set) var isReusable = true
  private var reader: HTTP1Reader
  /// The field spans of each response head are written here, into the last one's storage when it is free.
  private var fieldSpans: [FieldSpan] = []
  private var requestIsHEAD = false
  /// The request asked to switch to WebSocket; a 101 makes the connection a byte stream.
  private var requestUpgrades = false
  /// Set after a 101: every byte read is passed on as it is, and the end of the connection ends it.
  private var isTunnel = false
  /// Set between an interim (1xx) response's head and its end, which are not passed on.
  private var inInterim = false
  private var gate = ReadGate()

  init(limits: HTTP1Limits) {
    reader = HTTP1Reader(limits: limits, readsRequests: false)
  }

  /// The next response read belongs to `receiver`; a response to HEAD has no body whatever its fields say.
  func expectResponse(receiver: UpstreamResponseReceiver, toHEAD: Bool, upgrade: Bool = false) {
    self.receiver = receiver
    requestIsHEAD = toHEAD
    requestUpgrades = upgrade
  }

  /// The exchange is over with this connection.
  func detach() { receiver = nil }

  func holdReads(_ hold: Bool, context: ChannelHandlerContext) {
    if hold {
      gate.hold(1)
    } else if gate.release(1) {
      context.read()
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if isTunnel {
      receiver?.upstreamResponseBody(unwrapInboundIn(data))
      return
    }
    reader.append(unwrapInboundIn(data))
    guard receiver != nil else {
      // Nothing was asked: an idle connection talking out of turn cannot be trusted with a request.
      isReusable = false
      context.close(promise: nil)
      return
    }
    do {
      while let event = try reader.next() {
        switch event {
        case .head(let bytes):
          let head = try ResponseHead.parse(bytes, limits: reader.limits, reusing: &fieldSpans)
          if head.status == 101 {
            guard requestUpgrades else {
              throw HTTP1Error.badRequest("101 to a request that did not ask to upgrade")
            }
            isTunnel = true
            isReusable = false
            receiver?.upstreamResponseHead(head, framing: .untilClose)
            if let rest = reader.takeBuffered() { receiver?.upstreamResponseBody(rest) }
            return
          }
          let framing = head.framing(requestIsHEAD: requestIsHEAD)
          reader.expectBody(framing)
          if head.isInterim {
            inInterim = true
          } else {
            receiver?.upstreamResponseHead(head, framing: framing)
          }
        case .body(let buffer):
          receiver?.upstreamResponseBody(buffer)
        case .end(let trailers):
          if inInterim {
            inInterim = false
            continue
          }
          // Anything after a complete response was not asked for.
          if reader.bufferedBytes > 0 { isReusable = false }
          let receiver = self.receiver
          self.receiver = nil
          receiver?.upstreamResponseEnd(trailers)
          return
        }
      }
    } catch {
      isReusable = false
      let receiver = self.receiver
      self.receiver = nil
      receiver?.upstreamFailed(error)
      context.close(promise: nil)
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
    isReusable = false
    let receiver = self.receiver
    self.receiver = nil
    // A body that runs until close (or a WebSocket stream) ends here; anything else was cut short.
    if isTunnel {
      receiver?.upstreamResponseEnd(nil)
    } else if case .end(let trailers)? = reader.endOfInput(), !inInterim {
      receiver?.upstreamResponseEnd(trailers)
    } else {
      receiver?.upstreamFailed(nil)
    }
    let onClose = self.onClose
    self.onClose = nil
    onClose?()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    isReusable = false
    let receiver = self.receiver
    self.receiver = nil
    receiver?.upstreamFailed(error)
    context.close(promise: nil)
  }
}
