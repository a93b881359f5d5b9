import NIOCore
import NIOPosix
import NIOSSL

/// Why no connection could be had.
enum UpstreamFailure: Error {
  case connectFailed(Error)
  case connectTimeout
  case poolOverflow
}

/// Whoever asked a pool for a connection and may have to wait for it.
protocol ConnectionWaiter: AnyObject {
  /// A connection, or why there is none. A connection must come back through `release`.
  func connectionReady(_ result: Result<UpstreamConnection, UpstreamFailure>)
}

/// Keep-alive connections to one endpoint, for one event loop: no locks, nothing shared between loops.
/// Limits come from `connectionPoolSettings`: open connections, waiting requests, requests per connection,
/// idle timeout and connect timeout.
final class ConnectionPool {
  let host: String
  let port: Int
  let eventLoop: EventLoop
  let limits: HTTP1Limits
  var settings: PoolSettings
  /// New connections speak TLS with these settings; open ones keep theirs.
  var tls: UpstreamTLS?
  /// Requests holding or waiting for a connection; least-request balancing reads it.
  private(set) var activeRequests = 0
  /// Idle connections, the most recently used last (it is the next one handed out).
  private var idle: [UpstreamConnection] = []
  private var open = 0
  private var waiters = CircularBuffer<Waiter>()
  private var nextTicket = 0
  /// Closes connections idle for too long; one timer for the pool, not one per connection.
  private var idleSweep: Scheduled<Void>?

  /// A request waiting for a connection; its ticket lets it leave the queue.
  private struct Waiter {
    let ticket: Int
    let waiter: ConnectionWaiter
  }

  init(
    host: String, port: Int, eventLoop: EventLoop, limits: HTTP1Limits, settings: PoolSettings,
    tls: UpstreamTLS? = nil
  ) {
    self.host = host
    self.port = port
    self.eventLoop = eventLoop
    self.limits = limits
    self.settings = settings
    self.tls = tls
  }

  /// Hands a connection to `waiter`, now or when one frees up. A failure has already been accounted for.
  /// Returns a ticket when the request has to wait, for `cancel` should the request give up first.
  @discardableResult
  func acquire(for waiter: ConnectionWaiter) -> Int? {
    activeRequests += 1
    while let connection = idle.popLast() {
      if connection.isActive {
        waiter.connectionReady(.success(connection))
        return nil
      }
    }
    if open < settings.maxConnections {
      connect(for: waiter)
      return nil
    }
    guard waiters.count < settings.maxPendingRequests else {
      activeRequests -= 1
      waiter.connectionReady(.failure(.poolOverflow))
      return nil
    }
    nextTicket &+= 1
    waiters.append(Waiter(ticket: nextTicket, waiter: waiter))
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
    connection.handler.detach()
    // A slow client may have left reads held on this connection; the next exchange starts fresh.
    connection.handler.holdReads(false, context: connection.context)
    let exhausted =
      settings.maxRequestsPerConnection > 0 && connection.requestsServed >= settings.maxRequestsPerConnection
    guard reusable, !exhausted, connection.isActive, connection.handler.isReusable else {
      connection.close()
      return
    }
    if let next = waiters.popFirst() {
      next.waiter.connectionReady(.success(connection))
      return
    }
    connection.idleSince = .now()
    idle.append(connection)
    if idleSweep == nil { scheduleIdleSweep(after: settings.idleTimeout) }
  }

  /// Closes connections idle longer than the timeout, then looks again when the oldest remaining one is due.
  private func scheduleIdleSweep(after delay: TimeAmount) {
    idleSweep = eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
      guard let self else { return }
      self.idleSweep = nil
      let cutoff = NIODeadline.now() - self.settings.idleTimeout
      // Oldest first: connections are appended as they go idle.
      while let oldest = self.idle.first, oldest.idleSince <= cutoff {
        self.idle.removeFirst()
        oldest.close()
      }
      if let oldest = self.idle.first {
        self.scheduleIdleSweep(after: oldest.idleSince + self.settings.idleTimeout - .now())
      }
    }
  }

  /// True for an IPv4 or IPv6 address literal.
  static func isAddress(_ host: String) -> Bool {
    (try? SocketAddress(ipAddress: host, port: 0)) != nil
  }

  private func connectionClosed(_ connection: UpstreamConnection) {
    open -= 1
    idle.removeAll { $0 === connection }
    if let next = waiters.popFirst() { connect(for: next.waiter) }
  }

  private func connect(for waiter: ConnectionWaiter) {
    open += 1
    let limits = self.limits
    let tls = self.tls
    let connectTimeout = settings.connectTimeout
    // SNI carries names, never addresses.
    let serverName = tls?.serverName ?? (Self.isAddress(host) ? nil : host)
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(settings.connectTimeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let tls {
            try channel.pipeline.syncOperations.addHandler(
              NIOSSLClientHandler(context: tls.context, serverHostname: serverName))
          }
          try channel.pipeline.syncOperations.addHandler(
            UpstreamHandler(limits: limits, handshakes: tls != nil))
        }
      }
    bootstrap.connect(host: host, port: port).flatMap { channel -> EventLoopFuture<Channel> in
      // Over TLS the connection is ready once the handshake is done: a failed handshake is a failed
      // connect (503, UF), not a reset in the middle of a request.
      guard tls != nil,
        let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self),
        let handshake = handler.handshake
      else { return channel.eventLoop.makeSucceededFuture(channel) }
      // The connect timeout covers the handshake too: a server that accepts and then says nothing
      // must not hold a place in the pool.
      let timer = channel.eventLoop.scheduleTask(in: connectTimeout) { channel.close(promise: nil) }
      return handshake.map {
        timer.cancel()
        return channel
      }.flatMapErrorThrowing { error in
        timer.cancel()
        channel.close(promise: nil)
        throw error
      }
    }.assumeIsolated().whenComplete { result in
      switch result {
      case .success(let channel):
        guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self),
          let context = try? channel.pipeline.syncOperations.context(handler: handler)
        else {
          self.open -= 1
          self.activeRequests -= 1
          channel.close(promise: nil)
          waiter.connectionReady(.failure(.connectFailed(ChannelError.ioOnClosedChannel)))
          return
        }
        let connection = UpstreamConnection(channel: channel, handler: handler, context: context)
        // Held strongly until the channel closes (the handler then drops this closure): the exchange may
        // let go of the connection while its close is being reported.
        handler.onClose = { [weak self] in self?.connectionClosed(connection) }
        waiter.connectionReady(.success(connection))
      case .failure(let error):
        self.open -= 1
        self.activeRequests -= 1
        if let next = self.waiters.popFirst() { self.connect(for: next.waiter) }
        if case ChannelError.connectTimeout = error {
          waiter.connectionReady(.failure(.connectTimeout))
        } else {
          waiter.connectionReady(.failure(.connectFailed(error)))
        }
      }
    }
  }
}
