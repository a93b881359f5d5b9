import NIOCore
import Synchronization

/// Single commands to one Redis node (`GET`, `SET`, `DEL`), from any event loop: each loop keeps a
/// connection of its own, made on first use and made again after it fails. For data that is read and written
/// one key at a time (sessions), where the rate limiter's batching has nothing to gather.
public final class RedisCommandClient: Sendable {
  public let address: String
  private let connections = Mutex<[ObjectIdentifier: EventLoopFuture<RedisConnection>]>([:])
  private static let known = Mutex<[String: RedisCommandClient]>([:])

  private init(address: String) { self.address = address }

  /// The client for `address` (`host:port`), shared by everything that talks to it.
  public static func shared(address: String) -> RedisCommandClient {
    known.withLock { clients in
      if let found = clients[address] { return found }
      let made = RedisCommandClient(address: address)
      clients[address] = made
      return made
    }
  }

  /// Sends `command` on `loop`'s connection; the reply, or the failure (an error reply included), on `loop`.
  public func execute(_ command: [String], on loop: EventLoop, timeout: TimeAmount) -> EventLoopFuture<
    RESPValue
  > {
    let key = ObjectIdentifier(loop)
    let connection = connections.withLock { known in
      if let found = known[key] { return found }
      let made = RedisConnection.connect(to: address, on: loop, timeout: timeout)
      known[key] = made
      return made
    }
    let reply = connection.flatMap { connection -> EventLoopFuture<[RESPValue]> in
      guard connection.isActive else { return loop.makeFailedFuture(RedisError.connectionClosed) }
      return connection.send([command])
    }
    .flatMapThrowing { replies -> RESPValue in
      guard let first = replies.first else { throw RedisError.connectionClosed }
      if case .error(let message) = first { throw RedisError.reply(message) }
      return first
    }
    let answered = loop.makePromise(of: RESPValue.self)
    let settled = Settled()
    // A connection that failed or hangs is made again by the next command.
    let forget = { @Sendable in
      self.connections.withLock { known in
        if known[key] === connection { known[key] = nil }
      }
    }
    let deadline = loop.scheduleTask(in: timeout) {
      guard !settled.done else { return }
      settled.done = true
      forget()
      answered.fail(RedisError.timedOut)
    }
    reply.whenComplete { result in
      deadline.cancel()
      guard !settled.done else { return }
      settled.done = true
      if case .failure = result { forget() }
      answered.completeWith(result)
    }
    return answered.futureResult
  }
}

/// Whether a command's answer was given: by its reply or by its deadline, whichever came first. Touched only
/// on the command's event loop.
private final class Settled: @unchecked Sendable {
  var done = false
}
