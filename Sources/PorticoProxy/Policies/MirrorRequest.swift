import NIOCore

/// Where a route's `mirror` sends copies, and for which share of requests.
struct MirrorRuntime: Sendable {
  let upstream: UpstreamRuntime
  let share: RequestShare
}

/// A copy of a request sent to a route's mirror (with `-shadow` added to its host, as Envoy does). Its
/// response is read and dropped, and nothing it does reaches the client or slows the request it copies:
/// a copy that cannot keep up (its connection not ready or not writable, too much body kept) is
/// abandoned, and it gives up at the route's timeout.
final class MirrorRequest: ConnectionWaiter, UpstreamResponseReceiver {
  private let loop: LoopContext
  private let upstream: UpstreamLoopState
  private let endpoint: EndpointState
  private var head: ByteBuffer?
  private let chunked: Bool
  private let isHEAD: Bool
  private var connection: UpstreamConnection?
  private var message: OutgoingMessage?
  private var pending: [ByteBuffer] = []
  private var pendingBytes = 0
  private var ended: (trailers: ByteBuffer?, received: Bool) = (nil, false)
  private var ticket: Int?
  private var timer: Scheduled<Void>?
  private var done = false

  /// Starts the copy; nil when the mirror has no healthy endpoint.
  init?(
    of request: RequestHead, head: ByteBuffer, chunked: Bool, to runtime: UpstreamRuntime,
    timeout: TimeAmount, loop: LoopContext
  ) {
    self.loop = loop
    upstream = loop.state(of: runtime)
    guard let endpoint = upstream.pickEndpoint(now: .now(), random: &loop.random) else { return nil }
    self.endpoint = endpoint
    self.head = head
    self.chunked = chunked
    isHEAD = request.methodKind == .head
    ticket = endpoint.pool.acquire(for: self)
    if !done, timeout.nanoseconds > 0 {
      timer = loop.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in abandon() }
    }
  }

  func requestBody(_ buffer: ByteBuffer) {
    guard !done else { return }
    if let connection {
      guard connection.channel.isWritable else { return abandon() }
      message?.append(buffer, to: connection)
      connection.flush()
    } else {
      pending.append(buffer)
      pendingBytes += buffer.readableBytes
      if BodyBound.mirror.isExceeded(by: pendingBytes) { abandon() }
    }
  }

  func requestEnd(_ trailers: ByteBuffer?) {
    guard !done else { return }
    ended = (trailers, true)
    if let connection {
      message?.finish(trailers: trailers, to: connection)
      connection.flush()
    }
  }

  func connectionReady(_ result: Result<UpstreamConnection, UpstreamFailure>) {
    ticket = nil
    guard case .success(let connection) = result else { return finish() }
    guard !done, let head else { return endpoint.pool.release(connection, reusable: true) }
    self.head = nil
    self.connection = connection
    connection.handler.expectResponse(receiver: self, toHEAD: isHEAD)
    var message = OutgoingMessage(head: head, chunked: chunked)
    for piece in pending { message.append(piece, to: connection) }
    pending = []
    if ended.received {
      message.finish(trailers: ended.trailers, to: connection)
    } else {
      message.send(to: connection)
    }
    self.message = message
    connection.flush()
  }

  // The response is read and dropped.
  func upstreamResponseHead(_ head: ResponseHead, framing: BodyFraming) {}
  func upstreamResponseBody(_ buffer: ByteBuffer) {}
  func upstreamReadComplete() {}
  func upstreamWritabilityChanged(isWritable: Bool) {}

  func upstreamResponseEnd(_ trailers: ByteBuffer?) {
    guard let connection else { return finish() }
    self.connection = nil
    endpoint.pool.release(connection, reusable: ended.received)
    finish()
  }

  func upstreamFailed(_ error: Error?) { abandon() }

  /// The request it copies ended without its whole body (the client left, or was answered early): the
  /// copy cannot be completed either.
  func cancel() {
    if !ended.received { abandon() }
  }

  /// Gives the copy up: its connection is closed, whatever it was doing.
  private func abandon() {
    if let connection {
      self.connection = nil
      endpoint.pool.release(connection, reusable: false)
    }
    finish()
  }

  private func finish() {
    guard !done else { return }
    done = true
    timer?.cancel()
    timer = nil
    if let ticket { endpoint.pool.cancel(ticket: ticket) }
    ticket = nil
    pending = []
  }
}
