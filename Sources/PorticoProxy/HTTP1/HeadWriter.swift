import NIOCore
import NIOHTTP1
import PorticoCore
import PorticoRouting

/// Writes the heads the gateway sends: requests upstream, responses to clients, its own answers. Received
/// field lines are copied as they arrived, minus hop-by-hop fields (RFC 9110 §7.6.1) and those a header
/// plan removes; the gateway's own fields follow.
enum HeadWriter {
  /// How a request body whose length filters may have changed is framed upstream.
  enum RequestBodyFraming: Equatable {
    case length(Int)
    case chunked
  }

  /// The request head sent upstream, with forwarding fields added. With `attempt`, the request says
  /// which try it is (`x-portico-attempt-count`). `variables` fill in the plan's `%NAME%` values. A
  /// `shadow` copy (for a mirror) has `-shadow` added to its host. `bodyFraming` replaces the client's
  /// Content-Length or Transfer-Encoding.
  static func upstreamRequest(
    _ request: RequestHead, target: Substring, scheme: String, clientAddress: String, requestID: RequestID,
    attempt: Int? = nil, shadow: Bool = false, plan: HeaderPlan, edits: FieldEdits = FieldEdits(),
    bodyFraming: RequestBodyFraming? = nil, variables: HeaderVariables? = nil, into buffer: inout ByteBuffer
  ) {
    let drops = Removals(plan: plan, edits: edits)
    let head = request.head
    buffer.writeSubstring(request.method)
    buffer.writeStaticString(" ")
    buffer.writeSubstring(target)
    buffer.writeStaticString(" HTTP/1.1\r\n")
    let nominated = request.listsConnectionOptions ? head.listElements(of: .connection) : []
    var forwardedFor: [Substring] = []
    var hasForwardedHost = false
    var lines = LineRun()
    for field in head.fields {
      switch field.kind {
      case .expect, .xForwardedProto: continue
      case .xForwardedFor:
        forwardedFor.append(head.value(of: field))
        continue
      case .host where request.isAbsoluteForm || shadow: continue
      case .contentLength where bodyFraming != nil: continue
      case .transferEncoding where bodyFraming != nil: continue
      case .xForwardedHost: hasForwardedHost = true
      default: if field.kind.isHopByHop { continue }
      }
      if skips(field, of: head, nominated: nominated, drops: drops) { continue }
      lines.keep(field, of: head, into: &buffer)
    }
    lines.flush(head, into: &buffer)
    let authority = request.authority
    if shadow {
      let host = Authority.host(of: authority)
      writeField("host", (host + "-shadow" + authority[host.endIndex...])[...], drops: .none, into: &buffer)
    } else if request.isAbsoluteForm {
      writeField("host", authority, drops: drops, into: &buffer)
    }
    if !drops.drops("x-forwarded-for") {
      buffer.writeStaticString("x-forwarded-for: ")
      for value in forwardedFor {
        buffer.writeSubstring(value)
        buffer.writeStaticString(", ")
      }
      buffer.writeString(clientAddress)
      buffer.writeStaticString("\r\n")
    }
    writeField("x-forwarded-proto", scheme[...], drops: drops, into: &buffer)
    if !hasForwardedHost, !authority.isEmpty {
      writeField("x-forwarded-host", authority, drops: drops, into: &buffer)
    }
    if !requestID.isGiven {
      writeField("x-request-id", drops: drops, into: &buffer) { requestID.write(into: &$0) }
    }
    if let attempt {
      writeField("x-portico-attempt-count", String(attempt)[...], drops: .none, into: &buffer)
    }
    switch bodyFraming {
    case .length(let length) where length > 0 || request.framing != .none:
      writeField("content-length", String(length)[...], drops: .none, into: &buffer)
    case .chunked: buffer.writeStaticString("transfer-encoding: chunked\r\n")
    case .length, nil: break
    }
    if request.framing == .none, bodyFraming == nil || bodyFraming == .length(0) {
      // Without a framing field the server could not tell an empty body from a missing one.
      switch request.methodKind {
      case .post, .put, .patch: writeField("content-length", "0", drops: .none, into: &buffer)
      default: break
      }
    }
    if request.upgradesToWebSocket {
      // The handshake's own hop-by-hop fields go on: this hop is being upgraded too.
      buffer.writeStaticString("connection: upgrade\r\nupgrade: websocket\r\n")
    }
    writeAppended(plan, edits: edits, variables: variables, into: &buffer)
    buffer.writeStaticString("\r\n")
  }

  /// How the gateway frames a response body for the client.
  struct ResponseFraming {
    /// Drop the upstream's Transfer-Encoding (an HTTP/1.0 client gets the body raw, then a close).
    var dropsTransferEncoding = false
    /// Add `transfer-encoding: chunked` (a body that ran until close is chunked for an HTTP/1.1 client).
    var addsChunked = false
    /// A 101 to a WebSocket handshake: `Upgrade` goes on, with `connection: upgrade`.
    var switchesProtocols = false
    /// Drop the upstream's Content-Length (filters may have changed the body).
    var dropsLength = false
    /// Write this Content-Length (the body's length after the filters).
    var contentLength: Int?
  }

  /// The response head returned to the client.
  static func downstreamResponse(
    _ response: ResponseHead, framing: ResponseFraming, keepAlive: Bool, clientIsHTTP10: Bool,
    plan: HeaderPlan, edits: FieldEdits = FieldEdits(), variables: HeaderVariables? = nil,
    into buffer: inout ByteBuffer
  ) {
    let drops = Removals(plan: plan, edits: edits)
    let head = response.head
    buffer.writeStaticString("HTTP/1.1 ")
    buffer.writeSubstring(response.statusLine)
    buffer.writeStaticString("\r\n")
    let nominated = response.listsConnectionOptions ? head.listElements(of: .connection) : []
    var lines = LineRun()
    for field in head.fields {
      if field.kind.isHopByHop, !(framing.switchesProtocols && field.kind == .upgrade) { continue }
      if field.kind == .transferEncoding, framing.dropsTransferEncoding { continue }
      if field.kind == .contentLength, framing.dropsLength { continue }
      if skips(field, of: head, nominated: nominated, drops: drops) { continue }
      lines.keep(field, of: head, into: &buffer)
    }
    lines.flush(head, into: &buffer)
    if framing.addsChunked { buffer.writeStaticString("transfer-encoding: chunked\r\n") }
    if let length = framing.contentLength {
      writeField("content-length", String(length)[...], drops: .none, into: &buffer)
    }
    writeAppended(plan, edits: edits, variables: variables, into: &buffer)
    if framing.switchesProtocols {
      buffer.writeStaticString("connection: upgrade\r\n")
    } else {
      writeConnection(keepAlive: keepAlive, clientIsHTTP10: clientIsHTTP10, into: &buffer)
    }
    buffer.writeStaticString("\r\n")
  }

  /// A response made by the gateway, head and plain-text body, the one way every answer of its own is
  /// written: `fields` (the gateway's own), the body's length and type, the request ID, then the plan's
  /// changes. Returns the body bytes written (none when `omitsBody`, for HEAD).
  @discardableResult
  static func localAnswer(
    status: Int, body: String?, fields: [(name: String, value: String)], requestID: RequestID? = nil,
    keepAlive: Bool, clientIsHTTP10: Bool, omitsBody: Bool = false, plan: HeaderPlan,
    edits: FieldEdits = FieldEdits(), variables: HeaderVariables? = nil, into buffer: inout ByteBuffer
  ) -> Int {
    let drops = Removals(plan: plan, edits: edits)
    let bodyBytes = body?.utf8.count ?? 0
    buffer.writeStaticString("HTTP/1.1 ")
    buffer.writeString(String(status))
    buffer.writeStaticString(" ")
    buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
    buffer.writeStaticString("\r\n")
    for (name, value) in fields where !drops.drops(name) {
      writeField(name, value[...], drops: .none, into: &buffer)
    }
    writeField("content-length", String(bodyBytes)[...], drops: drops, into: &buffer)
    if bodyBytes > 0 { writeField("content-type", "text/plain; charset=utf-8", drops: drops, into: &buffer) }
    if let requestID {
      writeField("x-request-id", drops: drops, into: &buffer) { requestID.write(into: &$0) }
    }
    writeAppended(plan, edits: edits, variables: variables, into: &buffer)
    writeConnection(keepAlive: keepAlive, clientIsHTTP10: clientIsHTTP10, into: &buffer)
    buffer.writeStaticString("\r\n")
    guard let body, bodyBytes > 0, !omitsBody else { return 0 }
    buffer.writeString(body)
    return bodyBytes
  }

  static let continueResponse = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")

  // MARK: - Pieces

  private static func skips(
    _ field: FieldSpan, of head: MessageHead, nominated: [Substring], drops: Removals
  )
    -> Bool
  {
    // The fields that frame and address the message are the gateway's to write: a `Connection` option or
    // a header plan that dropped them would let the two hops read the body differently (smuggling).
    if field.kind == .contentLength || field.kind == .transferEncoding || field.kind == .host { return false }
    if !nominated.isEmpty {
      let name = head.name(of: field)
      if nominated.contains(where: { $0.equalsIgnoringASCIICase(name) }) { return true }
    }
    return drops.drops(head.name(of: field))
  }

  /// Received field lines kept for the outgoing head, copied byte for byte: consecutive lines leave in
  /// one copy, so a head that keeps most of its fields costs a few copies, not one per field.
  private struct LineRun {
    private var start = -1
    private var end = -1

    mutating func keep(_ field: FieldSpan, of head: MessageHead, into buffer: inout ByteBuffer) {
      if start >= 0, Int(field.nameStart) == end {
        end = Int(field.lineEnd)
        return
      }
      flush(head, into: &buffer)
      start = Int(field.nameStart)
      end = Int(field.lineEnd)
    }

    mutating func flush(_ head: MessageHead, into buffer: inout ByteBuffer) {
      guard start >= 0 else { return }
      head.copyBytes(from: start, to: end, into: &buffer)
      start = -1
    }
  }

  private static func writeField(
    _ name: String, _ value: Substring, drops: Removals, into buffer: inout ByteBuffer
  ) {
    writeField(name, drops: drops, into: &buffer) { $0.writeSubstring(value) }
  }

  /// A field line whose value `writeValue` writes, unless it is dropped.
  private static func writeField(
    _ name: String, drops: Removals, into buffer: inout ByteBuffer, writeValue: (inout ByteBuffer) -> Void
  ) {
    if drops.drops(name) { return }
    buffer.writeString(name)
    buffer.writeStaticString(": ")
    writeValue(&buffer)
    buffer.writeStaticString("\r\n")
  }

  /// The plan's fields, less those the edits drop (a later layer), then the edits' own.
  private static func writeAppended(
    _ plan: HeaderPlan, edits: FieldEdits, variables: HeaderVariables?, into buffer: inout ByteBuffer
  ) {
    for (name, value) in plan.appended where !edits.removes(name) {
      if let literal = value.literal {
        writeField(name, literal[...], drops: .none, into: &buffer)
        continue
      }
      writeField(name, drops: .none, into: &buffer) { variables?.write(value, into: &$0) }
    }
    for (name, value) in edits.added { writeField(name, value[...], drops: .none, into: &buffer) }
  }

  /// What a head leaves out: fields the route's plan removes, then those a filter's edits remove.
  private struct Removals {
    let plan: HeaderPlan
    let edits: FieldEdits

    static let none = Removals(plan: .none, edits: FieldEdits())

    func drops(_ name: some StringProtocol) -> Bool {
      (!plan.removed.isEmpty && plan.removes(name)) || edits.removes(name)
    }
  }

  private static func writeConnection(keepAlive: Bool, clientIsHTTP10: Bool, into buffer: inout ByteBuffer) {
    if !keepAlive {
      buffer.writeStaticString("connection: close\r\n")
    } else if clientIsHTTP10 {
      buffer.writeStaticString("connection: keep-alive\r\n")
    }
  }
}
