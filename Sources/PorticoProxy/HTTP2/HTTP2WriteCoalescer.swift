import NIOCore

/// Goes just before NIO's HTTP/2 handler on a connection (client or upstream) and makes its many small
/// writes few and large. Each stream's message asks for a flush of the whole connection; those asked for
/// while the event loop handles one batch of events (answers to many streams, typically) are done once,
/// when the batch is over. The frames written meanwhile are gathered into one buffer, so that they reach
/// TLS as one record and the socket in one system call, rather than one of each per frame. Frames of
/// `copyLimit` bytes or more are not copied: what is gathered goes first, then the frame as it is.
final class HTTP2WriteCoalescer: ChannelDuplexHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  static let copyLimit = 4096

  private var context: ChannelHandlerContext?
  private var gathered: ByteBuffer?
  /// The buffer's bytes have been passed on; it is cleared when next used, by when the layer below has
  /// usually let go of it, so that its memory is used again rather than copied.
  private var isPassedOn = false
  /// The promises of the gathered writes, kept (rather than chained) to spare an allocation per write.
  private var promises: [EventLoopPromise<Void>] = []
  private var flushIsScheduled = false

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    sendGathered()
    self.context = nil
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    let bytes = unwrapOutboundIn(data)
    if bytes.readableBytes >= Self.copyLimit {
      sendGathered()
      context.write(data, promise: promise)
      return
    }
    if gathered == nil { gathered = context.channel.allocator.buffer(capacity: 2 * Self.copyLimit) }
    if isPassedOn {
      isPassedOn = false
      gathered!.clear()
    }
    gathered!.writeImmutableBuffer(bytes)
    if let promise { promises.append(promise) }
  }

  func flush(context: ChannelHandlerContext) {
    guard !flushIsScheduled else { return }
    flushIsScheduled = true
    context.eventLoop.assumeIsolated().execute { [self] in
      flushIsScheduled = false
      sendGathered()
      self.context?.flush()
    }
  }

  func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
    // What is gathered (a GOAWAY saying why, say) leaves before the connection closes.
    if mode != .input {
      sendGathered()
      context.flush()
    }
    context.close(mode: mode, promise: promise)
  }

  func channelInactive(context: ChannelHandlerContext) {
    gathered = nil
    isPassedOn = false
    for promise in promises { promise.fail(ChannelError.ioOnClosedChannel) }
    promises.removeAll()
    context.fireChannelInactive()
  }

  /// Passes what is gathered on now, without flushing (the connection's handler calls it before a
  /// closing write of its own, which would otherwise overtake the gathered frames).
  func sendGathered() {
    guard let context, let bytes = gathered, !isPassedOn, bytes.readableBytes > 0 else { return }
    isPassedOn = true
    switch promises.count {
    case 0:
      context.write(wrapOutboundOut(bytes), promise: nil)
    case 1:
      context.write(wrapOutboundOut(bytes), promise: promises[0])
    default:
      let each = promises
      let all = context.eventLoop.makePromise(of: Void.self)
      all.futureResult.whenComplete { result in
        for promise in each { promise.completeWith(result) }
      }
      context.write(wrapOutboundOut(bytes), promise: all)
    }
    promises.removeAll(keepingCapacity: true)
  }
}
