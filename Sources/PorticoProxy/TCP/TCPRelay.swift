import Foundation
import NIOCore

/// A client connection passed through to an upstream endpoint as it is (TLS passthrough): the client's
/// bytes, its TLS ClientHello first, go to the endpoint and the endpoint's come back, with backpressure
/// both ways. Either side closing closes the other once what it sent has been written. The client's
/// `DownstreamHandler` keeps the connection's accounting and its idle timeout. When the client's side
/// closes, the connection gets an access log line of its own.
final class TCPRelay {
  private let downstream: DownstreamHandler
  private let forward: TCPForwardRuntime
  private let loop: LoopContext
  private var upstream: TCPRelayUpstreamHandler?
  private var pending: [ByteBuffer] = []
  private var pendingBytes = 0
  private var attempts = 0
  private var clientGone = false

  // What the access log says.
  private let serverName: String?
  private let started = NIODeadline.now()
  private let startedAt: Date?
  private var endpointKey: String?
  private var bytesIn = 0
  private var bytesOut = 0
  private var flags: [ResponseFlag] = []

  init(downstream: DownstreamHandler, forward: TCPForwardRuntime, serverName: String?) {
    self.downstream = downstream
    self.forward = forward
    self.loop = downstream.loop
    self.serverName = serverName
    startedAt = loop.accessLog.isEnabled ? Date() : nil
  }

  /// Connects to an endpoint, trying others (up to `maxConnectAttempts`) when it fails.
  func start() {
    attempts += 1
    guard let runtime = forward.pickUpstream(random: &loop.random) else { return downstream.abort() }
    let state = loop.state(of: runtime)
    guard let endpoint = state.pickEndpoint(now: .now(), random: &loop.random) else {
      return downstream.abort()
    }
    UpstreamDialer.dial(
      host: endpoint.endpoint.address, port: endpoint.endpoint.port, eventLoop: loop.eventLoop,
      connectTimeout: runtime.pool.connectTimeout, tls: nil
    ) { channel in
      try channel.pipeline.syncOperations.addHandler(TCPRelayUpstreamHandler())
    }.assumeIsolated().whenComplete { [self] result in
      switch result {
      case .success(let channel):
        loop.recordOutcome(state, endpoint: endpoint, failed: false)
        guard !clientGone,
          let handler = try? channel.pipeline.syncOperations.handler(type: TCPRelayUpstreamHandler.self)
        else { return channel.close(promise: nil) }
        handler.relay = self
        upstream = handler
        endpointKey = endpoint.key
        for piece in pending { handler.write(piece) }
        pending = []
        pendingBytes = 0
        handler.flush()
        downstream.release(.buffering)
      case .failure:
        loop.recordOutcome(state, endpoint: endpoint, failed: true)
        loop.services.metrics.upstreamConnectErrors.increment()
        guard !clientGone else { return }
        if attempts < forward.maxConnectAttempts { return start() }
        flags.append(.upstreamConnectFailure)
        downstream.abort()
      }
    }
  }

  // MARK: - Client side

  func clientBytes(_ buffer: ByteBuffer) {
    bytesIn += buffer.readableBytes
    guard let upstream else {
      pending.append(buffer)
      pendingBytes += buffer.readableBytes
      if BodyBound.pending.isExceeded(by: pendingBytes) { downstream.hold(.buffering) }
      return
    }
    upstream.write(buffer)
    if !upstream.isWritable { downstream.hold(.upstreamBusy) }
  }

  func clientReadComplete() { upstream?.flush() }

  func clientWritabilityChanged(isWritable: Bool) { upstream?.holdReads(!isWritable) }

  func clientClosed() {
    guard !clientGone else { return }
    clientGone = true
    upstream?.closeAfterFlush()
    upstream = nil
    guard let startedAt else { return }
    loop.accessLog.append(
      AccessRecord(
        time: startedAt, method: "-", authority: (serverName ?? "-")[...], path: "-", status: 0,
        bytesIn: bytesIn, bytesOut: bytesOut, duration: NIODeadline.now() - started,
        upstreamAddress: endpointKey, upstreamDuration: nil, route: nil, flags: flags,
        requestID: .given("-")))
  }

  // MARK: - Upstream side

  func upstreamBytes(_ buffer: ByteBuffer) {
    bytesOut += buffer.readableBytes
    downstream.noteTunnelActivity()
    downstream.write(buffer)
  }

  func upstreamReadComplete() {
    downstream.flush()
    if !downstream.context.channel.isWritable { upstream?.holdReads(true) }
  }

  func upstreamWritabilityChanged(isWritable: Bool) {
    if isWritable { downstream.release(.upstreamBusy) } else { downstream.hold(.upstreamBusy) }
  }

  func upstreamClosed() {
    upstream = nil
    guard !clientGone else { return }
    downstream.finishResponse(closing: true)
  }
}

/// The only handler of a passthrough connection's upstream side: hands what it reads to the relay, and
/// holds reads while the client cannot take more.
final class TCPRelayUpstreamHandler: ChannelDuplexHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Held strongly until the connection closes.
  var relay: TCPRelay?
  private var context: ChannelHandlerContext?
  private var gate = ReadGate()

  func handlerAdded(context: ChannelHandlerContext) { self.context = context }

  var isWritable: Bool { context?.channel.isWritable ?? false }

  func write(_ buffer: ByteBuffer) { context?.write(wrapOutboundOut(buffer), promise: nil) }

  func flush() { context?.flush() }

  /// Closes once what has been written is on the wire.
  func closeAfterFlush() {
    guard let context else { return }
    let channel = context.channel
    context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
  }

  func holdReads(_ hold: Bool) {
    if hold {
      gate.hold(1)
    } else if gate.release(1) {
      context?.read()
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    relay?.upstreamBytes(unwrapInboundIn(data))
  }

  func channelReadComplete(context: ChannelHandlerContext) { relay?.upstreamReadComplete() }

  func read(context: ChannelHandlerContext) {
    if gate.admit() { context.read() }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    relay?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    let relay = self.relay
    self.relay = nil
    relay?.upstreamClosed()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
