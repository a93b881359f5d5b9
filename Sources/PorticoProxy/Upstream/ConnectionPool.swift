import NIOCore
import NIOHTTP1
import NIOPosix

/// Why no connection could be had.
enum UpstreamFailure: Error {
  case connectFailed(Error)
  case connectTimeout
  case poolOverflow
}

/// Keep-alive connections to one endpoint, for one event loop: no locks, nothing shared between loops.
/// Limits come from `connectionPoolSettings`: open connections, waiting requests, requests per connection,
/// idle timeout and connect timeout.
final class ConnectionPool {
  let host: String
  let port: Int
  let eventLoop: EventLoop
  var settings: PoolSettings
  /// Requests holding or waiting for a connection; least-request balancing reads it.
  private(set) var activeRequests = 0
  private var idle: [UpstreamConnection] = []
  private var open = 0
  private var waiters = CircularBuffer<Waiter>()
  private var nextTicket = 0

  typealias Completion = (Result<UpstreamConnection, UpstreamFailure>) -> Void

  /// A request waiting for a connection; its ticket lets it leave the queue.
  private struct Waiter {
    let ticket: Int
    let done: Completion
  }

  init(host: String, port: Int, eventLoop: EventLoop, settings: PoolSettings) {
    self.host = host
    self.port = port
    self.eventLoop = eventLoop
    self.settings = settings
  }

  /// Hands a connection to `done`, now or when one frees up. A failure has already been accounted for; a
  /// connection must come back through `release`. Returns a ticket when the request has to wait, for
  /// `cancel` should the request give up first.
  @discardableResult
  func acquire(_ done: @escaping Completion) -> Int? {
    activeRequests += 1
    while let connection = idle.popLast() {
      connection.idleTimer?.cancel()
      connection.idleTimer = nil
      if connection.isActive {
        done(.success(connection))
        return nil
      }
    }
    if open < settings.maxConnections {
      connect(done)
      return nil
    }
    guard waiters.count < settings.maxPendingRequests else {
      activeRequests -= 1
      done(.failure(.poolOverflow))
      return nil
    }
    nextTicket &+= 1
    waiters.append(Waiter(ticket: nextTicket, done: done))
    return nextTicket
  }

  /// Takes a waiting request out of the queue (it timed out, or its client left), freeing its place.
  func cancel(ticket: Int) {
    guard let index = waiters.firstIndex(where: { $0.ticket == ticket }) else { return }
    waiters.remove(at: index)
    activeRequests -= 1
  }

  /// Takes a connection back after an exchange; `reusable` is false when it must not carry another request.
  func release(_ connection: UpstreamConnection, reusable: Bool) {
    activeRequests -= 1
    connection.requestsServed += 1
    connection.handler.receiver = nil
    // A slow client may have left reads held on this connection; the next exchange starts fresh.
    connection.handler.holdReads(false, context: connection.context)
    let exhausted =
      settings.maxRequestsPerConnection > 0 && connection.requestsServed >= settings.maxRequestsPerConnection
    guard reusable, !exhausted, connection.isActive else {
      connection.close()
      return
    }
    if let waiter = waiters.popFirst() {
      waiter.done(.success(connection))
      return
    }
    idle.append(connection)
    connection.idleTimer = eventLoop.assumeIsolated().scheduleTask(in: settings.idleTimeout) {
      [weak connection] in
      connection?.close()
    }
  }

  private func connectionClosed(_ connection: UpstreamConnection) {
    open -= 1
    idle.removeAll { $0 === connection }
    connection.idleTimer?.cancel()
    if let waiter = waiters.popFirst() { connect(waiter.done) }
  }

  private func connect(_ done: @escaping Completion) {
    open += 1
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(settings.connectTimeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
          try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
        }
      }
    bootstrap.connect(host: host, port: port).assumeIsolated().whenComplete { result in
      switch result {
      case .success(let channel):
        guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self),
          let context = try? channel.pipeline.syncOperations.context(handler: handler)
        else {
          self.open -= 1
          self.activeRequests -= 1
          channel.close(promise: nil)
          done(.failure(.connectFailed(ChannelError.ioOnClosedChannel)))
          return
        }
        let connection = UpstreamConnection(channel: channel, handler: handler, context: context)
        handler.onClose = { [weak self, unowned connection] in self?.connectionClosed(connection) }
        done(.success(connection))
      case .failure(let error):
        self.open -= 1
        self.activeRequests -= 1
        if let waiter = self.waiters.popFirst() { self.connect(waiter.done) }
        if case ChannelError.connectTimeout = error {
          done(.failure(.connectTimeout))
        } else {
          done(.failure(.connectFailed(error)))
        }
      }
    }
  }
}
