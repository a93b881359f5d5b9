import NIOCore

/// What an exchange sends its request on: a keep-alive HTTP/1.1 connection to one endpoint, or one
/// stream of an HTTP/2 connection (bridged so that it reads and writes HTTP/1.1 bytes), owned by its pool.
final class UpstreamConnection: ByteSink {
  let channel: Channel
  let handler: UpstreamHandler
  let context: ChannelHandlerContext
  var requestsServed = 0
  /// Something was written to it.
  private(set) var wasUsed = false
  /// When it was last returned to its pool.
  var idleSince = NIODeadline.uptimeNanoseconds(0)

  init(channel: Channel, handler: UpstreamHandler, context: ChannelHandlerContext) {
    self.channel = channel
    self.handler = handler
    self.context = context
  }

  var isActive: Bool { channel.isActive }

  var allocator: ByteBufferAllocator { channel.allocator }

  func write(_ buffer: ByteBuffer) {
    wasUsed = true
    context.write(handler.wrapOutboundOut(buffer), promise: nil)
  }

  func flush() { context.flush() }

  func close() { channel.close(promise: nil) }
}
