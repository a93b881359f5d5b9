import NIOCore
import NIOHTTP2
import NIOSSL
import NIOTLS

/// One client connection: reads HTTP/1.1 requests off the socket, turns each into an `Exchange`, answers
/// pipelined requests in order, and holds reads while the other side cannot keep up. Its HTTP/2 and TLS
/// sides are in the `DownstreamHandler+` files beside it.
final class DownstreamHandler: ChannelDuplexHandler, ByteSink {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Why reads are held; reads resume when no reason is left.
  enum ReadHold: UInt8 {
    case upstreamBusy = 1
    case pipelined = 2
    case buffering = 4
    /// A filter holds the request (waiting on work elsewhere).
    case filtering = 8
  }

  let loop: LoopContext
  let portName: String
  private(set) var context: ChannelHandlerContext!
  private(set) var clientAddress = "unknown"
  var exchange: Exchange?
  var reader: HTTP1Reader
  var gate = ReadGate()
  /// Set while requests are being read, so that an exchange finishing meanwhile does not start a second
  /// reading pass inside the first.
  var isReading = false
  /// Set once the connection can carry nothing more (a refused request, a broken body).
  var isDone = false
  /// Counted against the gateway's connection limit.
  var isAdmitted = false

  /// What the connection waits for, and since when (by the loop's coarse clock): the timeouts that guard
  /// against clients holding connections open without using them.
  enum Phase {
    /// No request in progress: the idle timeout applies.
    case idle
    /// Part of a head has arrived: the header timeout applies.
    case readingHead
    /// A request is being served: the route's request timeout applies.
    case busy
    /// A WebSocket stream: the idle timeout applies to its traffic in either direction.
    case tunnel
    /// A refused request's body is still arriving after the response: the gateway has stopped sending
    /// and drops what it reads, for `lingerTime` at most.
    case lingering
  }
  var phase = Phase.idle
  var phaseSince = NIODeadline.uptimeNanoseconds(0)

  /// Set once TLS is negotiated: the client's SNI name (which picks the server-name chain and its hosts) and the
  /// subject alternative names its certificate must carry.
  var tls: (serverName: String?, verifiesClients: Bool, verifySubjectAltNames: [String])?
  /// True while a TLS handshake is under way: requests wait for it.
  var awaitingHandshake = false

  /// `https` on a TLS connection, `http` otherwise: what `x-forwarded-proto` says.
  var scheme: String { tls == nil ? "http" : "https" }

  /// An HTTP/2 stream's handler, not a connection's: the connection does the accounting and timeouts.
  let isStream: Bool
  /// The connection speaks HTTP/2: its bytes go to NIO's HTTP/2 handler after this one.
  var isHTTP2 = false
  /// Whether the connection's first bytes have been checked for the HTTP/2 preface.
  var protocolKnown = false
  /// For a stream: its connection's handler, which counts open streams.
  weak var connection: DownstreamHandler?
  /// For an HTTP/2 connection: streams open now (a connection with open streams is not idle).
  var openStreams = 0
  /// For an HTTP/2 connection: GOAWAY has been sent; the connection closes when its last stream does.
  var isGoingAway = false
  /// For an HTTP/2 connection: the client has seen the first GOAWAY, and the second has told it which
  /// streams will be served.
  var goAwayIsFinal = false
  /// For an HTTP/2 connection: the highest stream the client has opened.
  var lastStreamID = HTTP2StreamID(0)
  /// For an HTTP/2 connection: gathers the frames of its streams between flushes.
  var coalescer: HTTP2WriteCoalescer?
  /// Set when the connection's TLS is passed through to an upstream: every byte goes to the relay.
  var relay: TCPRelay?
  /// The idle timeout of a passed-through connection, in place of the HTTP one.
  var relayIdleTimeout: TimeAmount?

  init(loop: LoopContext, portName: String) {
    self.loop = loop
    self.portName = portName
    self.reader = HTTP1Reader(limits: loop.services.limits, readsRequests: true)
    isStream = false
  }

  /// The handler of one stream of an HTTP/2 connection.
  init(streamOf connection: DownstreamHandler) {
    loop = connection.loop
    portName = connection.portName
    reader = HTTP1Reader(limits: loop.services.limits, readsRequests: true)
    clientAddress = connection.clientAddress
    tls = connection.tls
    isStream = true
    protocolKnown = true
    self.connection = connection
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    if !isStream, let address = context.channel.remoteAddress?.ipAddress { clientAddress = address }
  }

  func channelActive(context: ChannelHandlerContext) {
    if isStream {
      connection?.openStreams += 1
      if let id = try? context.channel.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID),
        let connection, id > connection.lastStreamID
      {
        connection.lastStreamID = id
      }
      return context.fireChannelActive()
    }
    guard loop.services.admitConnection() else {
      loop.services.metrics.refusedConnections.increment()
      isDone = true
      context.close(promise: nil)
      return
    }
    isAdmitted = true
    loop.startConnectionSweep()
    enter(.idle)
    loop.downstreamConnections[ObjectIdentifier(context.channel)] = self
    if loop.isDraining { context.close(promise: nil) }
    loop.services.metrics.activeConnections.increment()
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    if isStream {
      exchange?.downstreamClosed()
      exchange = nil
      connection?.streamClosed()
      return context.fireChannelInactive()
    }
    guard isAdmitted else { return }
    isAdmitted = false
    loop.services.connectionClosed()
    loop.downstreamConnections[ObjectIdentifier(context.channel)] = nil
    loop.services.metrics.activeConnections.decrement()
    isDone = true
    exchange?.downstreamClosed()
    exchange = nil
    relay?.clientClosed()
    relay = nil
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !isDone, !awaitingHandshake else { return }
    if let relay {
      phaseSince = loop.coarseNow
      return relay.clientBytes(unwrapInboundIn(data))
    }
    if isHTTP2 {
      phaseSince = loop.coarseNow
      return context.fireChannelRead(data)
    }
    if phase == .tunnel, let exchange {
      enter(.tunnel)
      exchange.requestBody(unwrapInboundIn(data))
      return
    }
    reader.append(unwrapInboundIn(data))
    if phase == .idle { enter(.readingHead) }
    if !protocolKnown {
      // A cleartext client with prior knowledge opens with the HTTP/2 preface.
      guard let isPreface = reader.startsWith(HTTP2Setup.preface) else { return }
      protocolKnown = true
      if isPreface { return enterHTTP2(context: context) }
    }
    readRequests()
    // Only empty lines arrived (a CRLF some clients send after a body): still idle, not a slow head.
    if exchange == nil, phase == .readingHead, reader.isIdle { enter(.idle) }
  }

  /// Hands what has been received to the current exchange, or starts the next one. A request that arrives
  /// while the previous one is still being answered waits in the reader, with reads held.
  func readRequests() {
    guard !isReading else { return }
    isReading = true
    defer { isReading = false }
    while !isDone {
      if let exchange, exchange.requestComplete {
        if reader.bufferedBytes > 0 { hold(.pipelined) }
        return
      }
      let event: HTTP1Reader.Event?
      do {
        event = try reader.next()
      } catch {
        return refuseInvalid(error)
      }
      guard let event else { return }
      switch event {
      case .head(let bytes):
        let request: RequestHead
        do {
          var fields = loop.requestFields.take()
          request = try RequestHead.parse(bytes, limits: reader.limits, reusing: &fields)
        } catch {
          return refuseInvalid(error)
        }
        reader.expectBody(request.framing)
        phase = .busy
        let exchange = Exchange(downstream: self, request: request)
        self.exchange = exchange
        exchange.start()
      case .body(let buffer):
        exchange?.requestBody(buffer)
      case .end(let trailers):
        exchange?.requestEnd(trailers)
      }
    }
  }

  func refuseInvalid(_ error: HTTP1Error) {
    loop.services.metrics.protocolErrors.increment()
    refuse(error)
  }

  /// A request broke the protocol or took too long. Within a request whose head was accepted, its exchange answers (or cuts
  /// the connection if its response has begun); otherwise the gateway answers with the error's status.
  /// Either way nothing more is read from this connection: its framing can no longer be trusted.
  func refuse(_ error: HTTP1Error) {
    isDone = true
    if let exchange {
      exchange.requestFailed(error)
      return
    }
    var buffer = allocator.buffer(capacity: 160 + error.reason.utf8.count)
    HeadWriter.localAnswer(
      status: error.status, body: error.reason + "\n", fields: [], keepAlive: false, clientIsHTTP10: false,
      plan: .none, into: &buffer)
    write(buffer)
    finishResponse(closing: true)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
      awaitingHandshake = false
      guard clientCertificateIsAccepted(context: context) else {
        isDone = true
        context.close(promise: nil)
        return
      }
      enter(.idle)
      if negotiated == "h2" {
        protocolKnown = true
        context.fireUserInboundEventTriggered(event)
        return enterHTTP2(context: context)
      }
    }
    context.fireUserInboundEventTriggered(event)
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    relay?.clientReadComplete()
    exchange?.downstreamReadComplete()
    context.fireChannelReadComplete()
  }

  func read(context: ChannelHandlerContext) {
    if phase == .lingering || gate.admit() { context.read() }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    relay?.clientWritabilityChanged(isWritable: context.channel.isWritable)
    exchange?.downstreamWritabilityChanged(isWritable: context.channel.isWritable)
    context.fireChannelWritabilityChanged()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    context.close(promise: nil)
  }

  /// Stops taking new requests: an idle connection closes now, a busy one after its current response. An
  /// HTTP/2 client is told with GOAWAY, and its connection closes once the streams it has open are done.
  func drain() {
    // A passed-through connection carries whatever its protocol is; it may go on until the drain timeout.
    if relay != nil { return }
    if isHTTP2 { return goAway() }
    if let exchange {
      exchange.closeAfterResponse()
    } else {
      context.close(promise: nil)
    }
  }

  func hold(_ reason: ReadHold) { gate.hold(reason.rawValue) }

  func release(_ reason: ReadHold) {
    if gate.release(reason.rawValue) { context.read() }
  }

  var allocator: ByteBufferAllocator { context.channel.allocator }

  func write(_ buffer: ByteBuffer) { context.write(wrapOutboundOut(buffer), promise: nil) }

  func flush() { context.flush() }

  /// The response is written: flushes it and, with `closing`, closes the connection once it is on the wire.
  func finishResponse(closing: Bool) {
    guard closing else { return context.flush() }
    coalescer?.sendGathered()
    let promise = context.eventLoop.makePromise(of: Void.self)
    context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: promise)
    let channel = context.channel
    // Closing on a body still arriving would answer its unread bytes with a reset, which can destroy the
    // response before the client has read it (RFC 9112 §9.6): the gateway only stops sending, and reads
    // and drops the rest for a while.
    guard !isStream, !isHTTP2, let exchange, !exchange.requestComplete else {
      return promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
    promise.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
    isDone = true
    enter(.lingering)
    context.read()  // Reads go on whatever held them: `read(context:)` admits every read while lingering.
  }

  /// How long a connection whose response refused the rest of a body keeps reading and dropping it.
  static let lingerTime = TimeAmount.seconds(2)

  /// Closes the connection now (nothing more can be said on it).
  func abort() { context.close(promise: nil) }

  /// The exchange is over; unless the connection is closing, goes on with any pipelined request.
  func exchangeFinished(_ finished: Exchange, keepAlive: Bool) {
    guard exchange === finished else { return }
    exchange = nil
    loop.requestFields.giveBack(finished.request.head.fields)
    // Without keep-alive the exchange has already arranged the close.
    guard keepAlive else {
      isDone = true
      return
    }
    if loop.isDraining {
      isDone = true
      context.close(promise: nil)
      return
    }
    enter(reader.bufferedBytes > 0 ? .readingHead : .idle)
    release(.pipelined)
    readRequests()
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    // Only HTTP/2 frames pass through here; this handler's own writes start below it.
    if isHTTP2 { phaseSince = loop.coarseNow }
    context.write(data, promise: promise)
  }

  /// The exchange switched protocols: what the client sends from now on is passed on as it is.
  func startTunnel() {
    enter(.tunnel)
    release(.pipelined)
    if let exchange, let early = reader.takeBuffered() {
      exchange.requestBody(early)
      exchange.downstreamReadComplete()
    }
  }

  func noteTunnelActivity() { phaseSince = loop.coarseNow }

  func enter(_ phase: Phase) {
    self.phase = phase
    phaseSince = loop.coarseNow
  }

  /// Called by the loop's sweep: closes a connection idle too long, and answers 408 to a head that is
  /// taking too long to arrive.
  func checkTimeouts(now: NIODeadline) {
    guard !isDone || phase == .lingering else { return }
    switch phase {
    case .idle:
      if now - phaseSince >= reader.limits.idleTimeout {
        isDone = true
        context.close(promise: nil)
      }
    case .readingHead:
      if now - phaseSince >= reader.limits.headerTimeout {
        loop.services.metrics.headerTimeouts.increment()
        refuse(.headerTimeout())
      }
    case .tunnel:
      // An HTTP/2 connection waiting on a slow upstream for one of its streams is not idle.
      if isHTTP2, openStreams > 0 { return }
      if now - phaseSince >= relayIdleTimeout ?? reader.limits.idleTimeout {
        isDone = true
        context.close(promise: nil)
      }
    case .lingering:
      if now - phaseSince >= Self.lingerTime { context.close(promise: nil) }
    case .busy:
      break
    }
  }
}
