import NIOCore

/// Small writes gathered into one buffer until the next flush, so that the frames of many HTTP/2 streams
/// reach TLS as one record rather than one record per frame. Large writes are not copied: what is gathered
/// goes first, then the large write as it is.
struct CoalescedWrites {
  /// Writes this large or larger pass through as they are.
  static let copyLimit = 4096

  private var buffer: ByteBuffer?
  /// The buffer's bytes have been passed on; it is cleared when next used, by when the layer below has
  /// usually let go of it, so that its memory is used again rather than copied.
  private var isPassedOn = false
  /// The promises of the gathered writes, kept (rather than chained) to spare an allocation per write.
  private var promises: [EventLoopPromise<Void>] = []

  mutating func append(_ bytes: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
    if bytes.readableBytes >= Self.copyLimit {
      write(to: context)
      context.write(NIOAny(bytes), promise: promise)
      return
    }
    if buffer == nil { buffer = context.channel.allocator.buffer(capacity: 2 * Self.copyLimit) }
    if isPassedOn {
      isPassedOn = false
      buffer!.clear()
    }
    buffer!.writeImmutableBuffer(bytes)
    if let promise { promises.append(promise) }
  }

  /// Passes what has been gathered on (without flushing).
  mutating func write(to context: ChannelHandlerContext) {
    guard let gathered = buffer, !isPassedOn, gathered.readableBytes > 0 else { return }
    isPassedOn = true
    switch promises.count {
    case 0:
      context.write(NIOAny(gathered), promise: nil)
    case 1:
      context.write(NIOAny(gathered), promise: promises[0])
    default:
      let each = promises
      let all = context.eventLoop.makePromise(of: Void.self)
      all.futureResult.whenComplete { result in
        for promise in each { promise.completeWith(result) }
      }
      context.write(NIOAny(gathered), promise: all)
    }
    promises.removeAll(keepingCapacity: true)
  }

  /// The connection closed with writes gathered: they will never be sent.
  mutating func fail(_ error: Error) {
    buffer = nil
    isPassedOn = false
    for promise in promises { promise.fail(error) }
    promises.removeAll()
  }
}
