import NIOCore
import NIOHTTP1

/// A keep-alive HTTP/1.1 connection to one endpoint, owned by its pool.
final class UpstreamConnection {
  let channel: Channel
  let handler: UpstreamHandler
  let context: ChannelHandlerContext
  var requestsServed = 0
  var idleTimer: Scheduled<Void>?

  init(channel: Channel, handler: UpstreamHandler, context: ChannelHandlerContext) {
    self.channel = channel
    self.handler = handler
    self.context = context
  }

  var isActive: Bool { channel.isActive }

  func write(_ part: HTTPClientRequestPart) {
    context.write(NIOAny(part), promise: nil)
  }

  func flush() { context.flush() }

  func close() { channel.close(promise: nil) }
}
