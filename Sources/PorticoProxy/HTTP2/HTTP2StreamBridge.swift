import NIOCore
import NIOHTTP1
import PorticoCore

/// Lets one HTTP/2 stream be served by the same `DownstreamHandler` and `Exchange` as an HTTP/1.1
/// connection. NIO's codec turns the stream's frames into request parts; this handler writes them as the
/// HTTP/1.1 message they stand for (so every request, whatever its protocol, passes through the same
/// parser and checks), and turns the HTTP/1.1 response written back into response parts for the codec.
final class HTTP2StreamBridge: ChannelDuplexHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = HTTPServerResponsePart

  /// A head is held until the next part shows whether a body follows (a request without one is sent
  /// without framing fields).
  private var pendingHead: HTTPRequestHead?
  private var chunked = false
  private var requestIsHEAD = false
  private var response: HTTP1Reader
  /// Set between an interim response's head and its end, which are not passed on.
  private var inInterim = false
  /// The last part handed to the codec, so that a write that adds nothing completes after it.
  private var lastWrite: EventLoopFuture<Void>?

  init(limits: HTTP1Limits) {
    response = HTTP1Reader(limits: limits, readsRequests: false)
  }

  // MARK: - Request: parts to HTTP/1.1 bytes

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      pendingHead = head
      requestIsHEAD = head.method == .HEAD
    case .body(let body):
      if let head = pendingHead {
        pendingHead = nil
        chunked = !head.headers.contains(name: "content-length")
        emitHead(head, context: context)
      }
      guard body.readableBytes > 0 else { return }
      if chunked {
        var line = context.channel.allocator.buffer(capacity: 20)
        OutgoingMessage.writeChunkSize(body.readableBytes, into: &line)
        context.fireChannelRead(wrapInboundOut(line))
        context.fireChannelRead(wrapInboundOut(body))
        context.fireChannelRead(wrapInboundOut(ByteBuffer(string: "\r\n")))
      } else {
        context.fireChannelRead(wrapInboundOut(body))
      }
    case .end(let trailers):
      if let head = pendingHead {
        pendingHead = nil
        chunked = false
        emitHead(head, context: context)
      }
      guard chunked else { return }
      var end = context.channel.allocator.buffer(capacity: 64)
      end.writeStaticString("0\r\n")
      for (name, value) in trailers ?? [:] { end.writeString("\(name): \(value)\r\n") }
      end.writeStaticString("\r\n")
      context.fireChannelRead(wrapInboundOut(end))
    }
  }

  private func emitHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
    var buffer = context.channel.allocator.buffer(capacity: 512)
    buffer.writeString(head.method.rawValue)
    buffer.writeStaticString(" ")
    buffer.writeString(head.uri)
    buffer.writeStaticString(" HTTP/1.1\r\n")
    for (name, value) in head.headers {
      // NIO's codec may add `transfer-encoding: chunked`; the bridge frames the body itself.
      if name.equalsIgnoringASCIICase("transfer-encoding") { continue }
      buffer.writeString(name)
      buffer.writeStaticString(": ")
      buffer.writeString(value)
      buffer.writeStaticString("\r\n")
    }
    if chunked { buffer.writeStaticString("transfer-encoding: chunked\r\n") }
    buffer.writeStaticString("\r\n")
    context.fireChannelRead(wrapInboundOut(buffer))
  }

  // MARK: - Response: HTTP/1.1 bytes to parts

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    response.append(unwrapOutboundIn(data))
    do {
      while let event = try response.next() {
        switch event {
        case .head(let bytes):
          let head = try ResponseHead.parse(bytes, limits: response.limits)
          response.expectBody(head.isInterim ? .none : head.framing(requestIsHEAD: requestIsHEAD))
          if head.isInterim {
            inInterim = true
            continue
          }
          let headers = Self.http2Fields(of: head.head)
          send(
            .head(
              HTTPResponseHead(version: .http1_1, status: .init(statusCode: head.status), headers: headers)),
            context)
        case .body(let body):
          send(.body(.byteBuffer(body)), context)
        case .end(let trailers):
          if inInterim {
            inInterim = false
            continue
          }
          send(.end(try trailers.map(Self.headers(ofTrailers:))), context)
        }
      }
    } catch {
      promise?.fail(error)
      context.close(promise: nil)
      return
    }
    guard let promise else { return }
    // Completes once everything handed to the codec so far has been written.
    if let lastWrite { lastWrite.cascade(to: promise) } else { promise.succeed() }
  }

  private func send(_ part: HTTPServerResponsePart, _ context: ChannelHandlerContext) {
    let promise = context.eventLoop.makePromise(of: Void.self)
    context.write(wrapOutboundOut(part), promise: promise)
    lastWrite = promise.futureResult
  }

  /// A head's fields as HTTP/2 sends them: lowercase names, without the fields that describe an
  /// HTTP/1.1 connection or frame its body (RFC 9113 §8.2.2).
  private static func http2Fields(of head: MessageHead) -> HTTPHeaders {
    var headers = HTTPHeaders()
    for field in head.fields where !field.kind.isHopByHop && field.kind != .transferEncoding {
      headers.add(name: head.name(of: field).lowercased(), value: String(head.value(of: field)))
    }
    return headers
  }

  /// The fields of a trailer section (already checked by the reader), read by the same parser.
  private static func headers(ofTrailers buffer: ByteBuffer) throws(HTTP1Error) -> HTTPHeaders {
    let head = try HeadParser.parsing(buffer) { bytes throws(HTTP1Error) in
      var fields: [FieldSpan] = []
      var sawHighBit = false
      _ = try HeadParser.parseFields(
        bytes, from: 0, limits: HTTP1Limits(), into: &fields, sawHighBit: &sawHighBit)
      return MessageHead(text: try HeadParser.text(of: bytes, sawHighBit: sawHighBit), fields: fields)
    }
    return http2Fields(of: head)
  }
}
