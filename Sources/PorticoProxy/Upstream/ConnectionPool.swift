import NIOCore

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

/// Connections to one endpoint, for one event loop: no locks, nothing shared between loops. Over HTTP/1.1
/// a pool of keep-alive connections, one request at a time on each; over HTTP/2 one shared connection
/// with a stream per request. Limits come from `connectionPoolSettings`: open connections, waiting
/// requests, requests per connection, idle timeout and connect timeout.
final class ConnectionPool {
  let host: String
  let port: Int
  let eventLoop: EventLoop
  let limits: HTTP1Limits
  var settings: PoolSettings
  /// New connections speak TLS with these settings; open ones keep theirs.
  var tls: UpstreamTLS?
  /// The destination's `protocol` is HTTP2 or GRPC: h2c, or h2 over TLS.
  let speaksHTTP2: Bool
  /// Requests holding or waiting for a connection; least-request balancing reads it.
  private(set) var activeRequests = 0
  /// Idle connections, the most recently used last (it is the next one handed out).
  private var idle: [UpstreamConnection] = []
  private var open = 0
  private var waiters = CircularBuffer<Waiter>()
  private var nextTicket = 0
  /// Closes connections idle for too long; one timer for the pool, not one per connection.
  private var idleSweep: Scheduled<Void>?
  /// Over HTTP/2: the connection streams are opened on, and whether one is being opened.
  private var session: HTTP2Session?
  private var sessionConnecting = false

  /// A request waiting for a connection; its ticket lets it leave the queue.
  private struct Waiter {
    let ticket: Int
    let waiter: ConnectionWaiter
  }

  init(
    host: String, port: Int, eventLoop: EventLoop, limits: HTTP1Limits, settings: PoolSettings,
    tls: UpstreamTLS? = nil, speaksHTTP2: Bool = false
  ) {
    self.host = host
    self.port = port
    self.eventLoop = eventLoop
    self.limits = limits
    self.settings = settings
    self.tls = tls
    self.speaksHTTP2 = speaksHTTP2
  }

  /// Hands a connection to `waiter`, now or when one frees up. A failure has already been accounted for.
  /// Returns a ticket when the request has to wait, for `cancel` should the request give up first.
  @discardableResult
  func acquire(for waiter: ConnectionWaiter) -> Int? {
    activeRequests += 1
    if speaksHTTP2 { return acquireStream(for: waiter) }
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
    return enqueue(waiter)
  }

  private func enqueue(_ waiter: ConnectionWaiter) -> Int? {
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
    connection.handler.detach()
    if speaksHTTP2 {
      // A stream carries one exchange. One that ended both ways closes itself (resetting it as well
      // would count against the server's reset budget); one never used is dropped, any other reset.
      if !reusable || !connection.wasUsed { connection.close() }
      return
    }
    connection.requestsServed += 1
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

  private func connectionClosed(_ connection: UpstreamConnection) {
    open -= 1
    idle.removeAll { $0 === connection }
    if let next = waiters.popFirst() { connect(for: next.waiter) }
  }

  private func connect(for waiter: ConnectionWaiter) {
    open += 1
    let limits = self.limits
    UpstreamDialer.dial(
      host: host, port: port, eventLoop: eventLoop, connectTimeout: settings.connectTimeout, tls: tls
    ) { channel in
      try channel.pipeline.syncOperations.addHandler(UpstreamHandler(limits: limits))
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
        waiter.connectionReady(.failure(Self.failure(error)))
      }
    }
  }

  private static func failure(_ error: Error) -> UpstreamFailure {
    if case ChannelError.connectTimeout = error { return .connectTimeout }
    return .connectFailed(error)
  }

  // MARK: - HTTP/2

  private func acquireStream(for waiter: ConnectionWaiter) -> Int? {
    if let session, session.acceptsStreams, session.hasRoom, waiters.isEmpty {
      session.openStream(for: waiter) { [weak self] in self?.activeRequests -= 1 }
      return nil
    }
    let ticket = enqueue(waiter)
    if ticket != nil, session?.acceptsStreams != true, !sessionConnecting { connectSession() }
    return ticket
  }

  /// Hands waiting requests the streams there is room for.
  private func openWaitingStreams() {
    guard let session else { return }
    while session.acceptsStreams, session.hasRoom, let next = waiters.popFirst() {
      session.openStream(for: next.waiter) { [weak self] in self?.activeRequests -= 1 }
    }
  }

  /// Opens the connection streams go on; waiting requests get their streams when it is ready, or all fail
  /// if it cannot be opened.
  private func connectSession() {
    sessionConnecting = true
    let limits = self.limits
    let scheme = tls == nil ? "http" : "https"
    let idleTimeout = settings.idleTimeout
    let maxStreams = settings.maxConcurrentStreams
    UpstreamDialer.dial(
      host: host, port: port, eventLoop: eventLoop, connectTimeout: settings.connectTimeout, tls: tls,
      requiredProtocol: tls == nil ? nil : "h2", configure: HTTP2Session.configure
    ).flatMapThrowing { channel in
      try HTTP2Session.start(
        on: channel, limits: limits, scheme: scheme, idleTimeout: idleTimeout, maxStreams: maxStreams,
        onEnd: { [weak self] ended in self?.sessionEnded(ended) },
        onStreamClosed: { [weak self] in self?.openWaitingStreams() })
    }.assumeIsolated().whenComplete { result in
      self.sessionConnecting = false
      switch result {
      case .success(let session):
        self.session = session
        self.openWaitingStreams()
      case .failure(let error):
        let failure = Self.failure(error)
        while let next = self.waiters.popFirst() {
          self.activeRequests -= 1
          next.waiter.connectionReady(.failure(failure))
        }
      }
    }
  }

  /// The session can take no more streams: the next request opens a new one (streams open on it finish,
  /// then it closes).
  private func sessionEnded(_ ended: HTTP2Session) {
    guard session === ended else { return }
    session = nil
    if !waiters.isEmpty, !sessionConnecting { connectSession() }
  }

  /// The pool is no longer used (its endpoint left the configuration): idle connections close now, and
  /// the HTTP/2 session once its streams are done.
  func retire() {
    for connection in idle { connection.close() }
    idle.removeAll()
    idleSweep?.cancel()
    idleSweep = nil
    session?.finish()
    session = nil
  }
}
