import NIOCore
import NIOHTTP2

/// An HTTP/2 connection's own work: taking the connection over from HTTP/1.1, counting its streams, and
/// winding it down with GOAWAY.
extension DownstreamHandler {
  /// Hands the connection to HTTP/2: NIO's handler goes after this one, and this one only keeps the
  /// connection's accounting and its idle timeout (traffic either way counts as activity).
  func enterHTTP2(context: ChannelHandlerContext) {
    isHTTP2 = true
    enter(.tunnel)
    do {
      try HTTP2Setup.configure(connection: self, context: context)
    } catch {
      isDone = true
      context.close(promise: nil)
      return
    }
    if let early = reader.takeBuffered() { context.fireChannelRead(wrapInboundOut(early)) }
  }

  /// Tells an HTTP/2 client to open no more streams on this connection (the handler of one of its streams
  /// passes it on), in two phases (RFC 9113 §6.8): a GOAWAY that promises every stream, and a PING; once
  /// the client has answered it, streams it opened meanwhile have arrived, and a second GOAWAY names the
  /// last one that will be served. The connection closes when those are done.
  func goAway() {
    if isStream { return connection?.goAway() ?? () }
    guard isHTTP2, !isGoingAway else { return }
    isGoingAway = true
    let channel = context.channel
    channel.write(
      HTTP2Frame(
        streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil)),
      promise: nil)
    channel.writeAndFlush(
      HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2Setup.goAwayPing, ack: false)), promise: nil)
  }

  /// GOAWAY has been sent: the connection is winding down.
  var isClosingGracefully: Bool { isGoingAway }

  /// The client has seen the first GOAWAY.
  func goAwayAcknowledged() {
    guard isGoingAway, !goAwayIsFinal else { return }
    goAwayIsFinal = true
    context.channel.writeAndFlush(
      HTTP2Frame(
        streamID: .rootStream,
        payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil)),
      promise: nil)
    if openStreams == 0 { finishResponse(closing: true) }
  }

  func streamClosed() {
    openStreams -= 1
    if goAwayIsFinal, openStreams == 0 { finishResponse(closing: true) }
  }
}
