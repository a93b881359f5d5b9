import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// Writes the frames of one HTTP/2 stream as the HTTP/1.1 message they stand for: a client's request for
/// `DownstreamHandler`, or an upstream's response for `UpstreamHandler`. Every message, whatever its
/// protocol, then passes through the same HTTP/1.1 parser and checks. NIO's HTTP/2 handler has already
/// validated the fields (lowercase names, no connection-specific fields, no CR, LF or NUL in values).
struct HTTP2MessageDecoder {
  enum Kind {
    case request
    case response
  }

  let kind: Kind
  /// A response to HEAD has no body whatever its fields say; set by whoever sent the request.
  var requestIsHEAD = false
  private var sawHead = false
  private var chunked = false

  init(kind: Kind) {
    self.kind = kind
  }

  /// The HTTP/1.1 bytes `payload` stands for, or nil when it adds nothing to the message (window updates,
  /// priorities, interim responses).
  mutating func decode(_ payload: HTTP2Frame.FramePayload, allocator: ByteBufferAllocator) throws(HTTP1Error)
    -> ByteBuffer?
  {
    switch payload {
    case .headers(let headers) where !sawHead:
      return try head(headers.headers, endStream: headers.endStream, allocator: allocator)
    case .headers(let trailers):
      guard trailers.endStream else { throw .badRequest("a second field block that does not end the stream") }
      var buffer = allocator.buffer(capacity: 64)
      // A body framed by Content-Length cannot carry trailers in HTTP/1.1; they are dropped.
      guard chunked else { return buffer }
      buffer.writeStaticString("0\r\n")
      Self.writeFields(trailers.headers, into: &buffer)
      buffer.writeStaticString("\r\n")
      return buffer
    case .data(let data):
      guard sawHead, case .byteBuffer(let body) = data.data else {
        throw .badRequest("DATA before the message's head")
      }
      guard chunked else { return body.readableBytes > 0 || !data.endStream ? body : nil }
      var buffer = allocator.buffer(capacity: body.readableBytes + 24)
      if body.readableBytes > 0 {
        OutgoingMessage.writeChunkSize(body.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(body)
        buffer.writeStaticString("\r\n")
      }
      if data.endStream { buffer.writeStaticString("0\r\n\r\n") }
      return buffer
    default:
      return nil
    }
  }

  private mutating func head(_ fields: HPACKHeaders, endStream: Bool, allocator: ByteBufferAllocator)
    throws(HTTP1Error) -> ByteBuffer?
  {
    var buffer = allocator.buffer(capacity: 256)
    var hasLength = false
    var bodyless = endStream
    switch kind {
    case .request:
      guard let method = fields.first(name: ":method") else { throw .badRequest("no :method") }
      buffer.writeString(method)
      buffer.writeStaticString(" ")
      buffer.writeString(fields.first(name: ":path") ?? fields.first(name: ":authority") ?? "")
      buffer.writeStaticString(" HTTP/1.1\r\n")
      // A Host field, when a client sends one beside :authority (nghttp and h2load do), is the one used,
      // as NIO's HTTP/1 translation has always done; otherwise :authority becomes Host.
      if !fields.contains(name: "host"), let authority = fields.first(name: ":authority") {
        Self.writeField("host", authority, into: &buffer)
      }
      var cookies: [String] = []
      for (name, value, _) in fields where !name.hasPrefix(":") {
        // A client may split Cookie into several fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
        if name == "cookie" {
          cookies.append(value)
          continue
        }
        if name == "content-length" { hasLength = true }
        Self.writeField(name, value, into: &buffer)
      }
      if !cookies.isEmpty { Self.writeField("cookie", cookies.joined(separator: "; "), into: &buffer) }
    case .response:
      guard let text = fields.first(name: ":status"), let status = Int(text), (100...999).contains(status)
      else { throw .badRequest("no valid :status") }
      // Interim responses are not passed on.
      if status < 200 { return nil }
      buffer.writeStaticString("HTTP/1.1 ")
      buffer.writeString(text)
      buffer.writeStaticString(" ")
      buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
      buffer.writeStaticString("\r\n")
      // gRPC's status comes in trailers, which HTTP/1.1 carries only in a chunked body.
      let keepsTrailers =
        !endStream && fields.first(name: "content-type")?.hasPrefix("application/grpc") == true
      for (name, value, _) in fields where !name.hasPrefix(":") {
        if name == "content-length" {
          if keepsTrailers { continue }
          hasLength = true
        }
        Self.writeField(name, value, into: &buffer)
      }
      if requestIsHEAD || status == 204 || status == 304 {
        bodyless = true
      }
      // A response ended by its head still needs framing in HTTP/1.1 (HEAD, 204 and 304 aside): an empty
      // chunked body, which an HTTP/2 client never sees as a field.
      else if endStream, !hasLength {
        bodyless = false
      }
    }
    sawHead = true
    if !bodyless, !hasLength {
      chunked = true
      buffer.writeStaticString("transfer-encoding: chunked\r\n")
    }
    buffer.writeStaticString("\r\n")
    if chunked, endStream { buffer.writeStaticString("0\r\n\r\n") }
    return buffer
  }

  private static func writeFields(_ fields: HPACKHeaders, into buffer: inout ByteBuffer) {
    for (name, value, _) in fields where !name.hasPrefix(":") { writeField(name, value, into: &buffer) }
  }

  private static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
    buffer.writeString(name)
    buffer.writeStaticString(": ")
    buffer.writeString(value)
    buffer.writeStaticString("\r\n")
  }
}
