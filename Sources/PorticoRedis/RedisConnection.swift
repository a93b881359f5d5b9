import NIOCore
import NIOPosix

/// One connection to a Redis node, on one event loop: batches of commands are written as they come
/// (pipelined), and replies are matched to them in order. When the connection closes, every batch waiting
/// fails.
final class RedisConnection: @unchecked Sendable {
  // @unchecked: used only from its channel's event loop.
  let channel: Channel
  let address: String

  init(channel: Channel, address: String) {
    self.channel = channel
    self.address = address
  }

  static func connect(to address: String, on eventLoop: EventLoop, timeout: TimeAmount) -> EventLoopFuture<
    RedisConnection
  > {
    guard let (host, port) = RedisAddress.split(address) else {
      return eventLoop.makeFailedFuture(RedisError.badAddress(address))
    }
    return ClientBootstrap(group: eventLoop)
      .connectTimeout(timeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
          try channel.pipeline.syncOperations.addHandler(RedisCommandHandler())
        }
      }
      .connect(host: host, port: port)
      .map { RedisConnection(channel: $0, address: address) }
  }

  var isActive: Bool { channel.isActive }

  /// Sends `count` commands already encoded in `commands` and answers their replies, in order. The caller
  /// gathers a loop turn's commands into one batch, so each batch is flushed at once.
  func send(_ commands: ByteBuffer, count: Int) -> EventLoopFuture<[RESPValue]> {
    let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
    channel.writeAndFlush(
      RedisCommandHandler.Batch(commands: commands, count: count, promise: promise), promise: nil)
    return promise.futureResult
  }

  /// Sends `commands`, for the rare ones (`CLUSTER SLOTS`).
  func send(_ commands: [[String]]) -> EventLoopFuture<[RESPValue]> {
    var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
    for command in commands { RESPEncoder.write(command, into: &buffer) }
    return send(buffer, count: commands.count)
  }

  func close() { channel.close(promise: nil) }
}

/// Matches replies to the batches written, in order.
final class RedisCommandHandler: ChannelDuplexHandler {
  typealias InboundIn = RESPValue
  typealias OutboundIn = Batch
  typealias OutboundOut = ByteBuffer

  struct Batch {
    let commands: ByteBuffer
    let count: Int
    let promise: EventLoopPromise<[RESPValue]>
  }

  private var waiting = CircularBuffer<(promise: EventLoopPromise<[RESPValue]>, count: Int)>()
  private var replies: [RESPValue] = []

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    let batch = unwrapOutboundIn(data)
    waiting.append((batch.promise, batch.count))
    context.write(wrapOutboundOut(batch.commands), promise: promise)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard let head = waiting.first else {
      context.close(promise: nil)  // a reply nobody asked for: the stream is out of step
      return
    }
    replies.append(unwrapInboundIn(data))
    if replies.count == head.count {
      waiting.removeFirst()
      let done = replies
      replies = []
      replies.reserveCapacity(done.count)
      head.promise.succeed(done)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    failAll(error)
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    failAll(RedisError.connectionClosed)
    context.fireChannelInactive()
  }

  private func failAll(_ error: any Error) {
    while let entry = waiting.popFirst() { entry.promise.fail(error) }
    replies = []
  }
}

enum RedisAddress {
  /// `host:port`.
  static func split(_ address: String) -> (String, Int)? {
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...])
    else { return nil }
    return (String(address[..<colon]), port)
  }
}

public enum RedisError: Error, Equatable, CustomStringConvertible {
  case badAddress(String)
  case connectionClosed
  case unavailable(String)
  case timedOut
  case reply(String)
  case tooManyRedirects

  public var description: String {
    switch self {
    case .badAddress(let address): "not a HOST:PORT address: '\(address)'"
    case .connectionClosed: "the connection to Redis closed"
    case .unavailable(let address): "Redis at \(address) is not reachable (retrying)"
    case .timedOut: "Redis did not answer in time"
    case .reply(let message): "Redis answered: \(message)"
    case .tooManyRedirects: "Redis Cluster redirected the command more than once"
    }
  }
}
