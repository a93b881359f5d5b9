import NIOCore
import NIOHPACK
import NIOHTTP2

/// Sends an HTTP/1.1 message written by the gateway as the frames of one HTTP/2 stream: a response to a
/// client, or a request to an upstream. The message is read by the same reader and parsers as any other,
/// so nothing reaches the wire that they would not accept.
struct HTTP2MessageEncoder {
  enum Kind {
    /// A request, with the scheme its `:scheme` says.
    case request(scheme: String)
    case response
  }

  let kind: Kind
  /// Set from the request a response answers: a response to HEAD has no body.
  var requestIsHEAD = false
  /// The method of the request encoded last (requests only).
  private(set) var method: RequestHead.Method?
  private var reader: HTTP1Reader
  private var inInterim = false
  /// A head is held until the end of the bytes at hand, so that a message that ends with them leaves
  /// as one HEADERS frame that ends the stream (a gRPC "trailers-only" response needs exactly that).
  private var pendingHead: HPACKHeaders?
  /// The last body piece is held the same way, so that the end of the message rides on it.
  private var pendingData: ByteBuffer?

  init(kind: Kind) {
    self.kind = kind
    if case .request = kind {
      reader = HTTP1Reader(limits: .ownMessages, readsRequests: true)
    } else {
      reader = HTTP1Reader(limits: .ownMessages, readsRequests: false)
    }
  }

  /// Reads `buffer` and hands each frame it completes to `emit`.
  mutating func encode(_ buffer: ByteBuffer, emit: (HTTP2Frame.FramePayload) -> Void) throws(HTTP1Error) {
    reader.append(buffer)
    while let event = try reader.next() {
      switch event {
      case .head(let bytes):
        pendingHead = try head(of: bytes)
      case .body(let body):
        sendPending(emit)
        pendingData = body
      case .end(let trailers):
        if inInterim {
          inInterim = false
          continue
        }
        if var head = pendingHead, trailers == nil {
          pendingHead = nil
          // Said by the frame itself; a HEAD response's length (that of the body it stands for) stays.
          if head.first(name: "content-length") == "0" { head.remove(name: "content-length") }
          emit(.headers(.init(headers: head, endStream: true)))
          continue
        }
        if let trailers {
          sendPending(emit)
          emit(.headers(.init(headers: try Self.trailerFields(trailers), endStream: true)))
        } else {
          sendPendingHead(emit)
          emit(.data(.init(data: .byteBuffer(pendingData ?? ByteBuffer()), endStream: true)))
          pendingData = nil
        }
      }
    }
    // What is held goes now: a streaming message must not wait for its next piece.
    sendPending(emit)
  }

  private mutating func sendPendingHead(_ emit: (HTTP2Frame.FramePayload) -> Void) {
    guard let head = pendingHead else { return }
    pendingHead = nil
    emit(.headers(.init(headers: head)))
  }

  private mutating func sendPending(_ emit: (HTTP2Frame.FramePayload) -> Void) {
    sendPendingHead(emit)
    guard let data = pendingData else { return }
    pendingData = nil
    emit(.data(.init(data: .byteBuffer(data))))
  }

  private mutating func head(of bytes: ByteBuffer) throws(HTTP1Error) -> HPACKHeaders? {
    switch kind {
    case .request(let scheme):
      let request = try RequestHead.parse(bytes, limits: reader.limits)
      reader.expectBody(request.framing)
      method = request.methodKind
      var fields = HPACKHeaders()
      fields.reserveCapacity(request.head.fields.count + 5)
      fields.add(name: ":method", value: String(request.method))
      fields.add(name: ":scheme", value: scheme)
      fields.add(name: ":authority", value: String(request.authority))
      fields.add(name: ":path", value: String(request.originForm))
      Self.add(request.head, skippingHost: true, to: &fields)
      // Said on every request: the gateway reads trailers (gRPC servers require it).
      fields.add(name: "te", value: "trailers")
      return fields
    case .response:
      let response = try ResponseHead.parse(bytes, limits: reader.limits)
      reader.expectBody(response.isInterim ? .none : response.framing(requestIsHEAD: requestIsHEAD))
      if response.isInterim {
        inInterim = true
        return nil
      }
      var fields = HPACKHeaders()
      fields.reserveCapacity(response.head.fields.count + 1)
      fields.add(name: ":status", value: String(response.status))
      Self.add(response.head, skippingHost: false, to: &fields)
      return fields
    }
  }

  /// A head's fields as HTTP/2 sends them: lowercase names, without the fields that describe an HTTP/1.1
  /// connection or frame its body (RFC 9113 §8.2.2).
  private static func add(_ head: MessageHead, skippingHost: Bool, to fields: inout HPACKHeaders) {
    for field in head.fields where !field.kind.isHopByHop && field.kind != .transferEncoding {
      if skippingHost, field.kind == .host { continue }
      fields.add(name: head.name(of: field).lowercased(), value: String(head.value(of: field)))
    }
  }

  /// The fields of a trailer section (already checked by the reader), read by the same parser.
  private static func trailerFields(_ buffer: ByteBuffer) throws(HTTP1Error) -> HPACKHeaders {
    let head = try HeadParser.trailerSection(buffer, limits: .ownMessages)
    var fields = HPACKHeaders()
    add(head, skippingHost: false, to: &fields)
    return fields
  }
}
