import NIOCore

/// Splits the bytes of one HTTP/1.1 connection into heads, body pieces and message ends. Bytes are kept
/// as they arrive and handed on as slices: a body is never copied. The owner parses each head and says how
/// its body is framed; the reader checks chunked framing strictly (RFC 9112 §7.1), since a proxy that
/// reads chunk boundaries differently from the server behind it can be made to smuggle requests.
struct HTTP1Reader {
  enum Event {
    /// A complete head, through its closing empty line. The owner must call `expectBody` next.
    case head(ByteBuffer)
    case body(ByteBuffer)
    /// The message ended; a chunked body may have had a trailer section (its raw, checked field lines).
    case end(trailers: ByteBuffer?)
  }

  private enum State {
    case head(scanned: Int)
    case framingPending
    case length(remaining: Int)
    case chunkLine
    case chunkData(remaining: Int)
    case chunkDataEnd
    case trailers(scanned: Int)
    case untilClose
  }

  let limits: HTTP1Limits
  /// Requests get 414 for an over-long first line; responses are just invalid.
  let readsRequests: Bool
  private var buffer: ByteBuffer?
  private var state = State.head(scanned: 0)

  init(limits: HTTP1Limits, readsRequests: Bool) {
    self.limits = limits
    self.readsRequests = readsRequests
  }

  /// Bytes received and not yet handed on.
  var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

  /// True between messages, with nothing of the next one received.
  var isIdle: Bool {
    if case .head(scanned: 0) = state { return bufferedBytes == 0 }
    return false
  }

  mutating func append(_ incoming: ByteBuffer) {
    if var buffer, buffer.readableBytes > 0 {
      var incoming = incoming
      buffer.writeBuffer(&incoming)
      self.buffer = buffer
    } else {
      buffer = incoming
    }
  }

  /// Whether what has been received begins with `prefix`; nil while too little has arrived to tell.
  func startsWith(_ prefix: [UInt8]) -> Bool? {
    guard let buffer else { return nil }
    let available = min(buffer.readableBytes, prefix.count)
    guard buffer.readableBytesView.prefix(available).elementsEqual(prefix.prefix(available)) else {
      return false
    }
    return available == prefix.count ? true : nil
  }

  /// Hands over whatever has been received and not read: the first bytes of a stream that follows a
  /// protocol switch.
  mutating func takeBuffered() -> ByteBuffer? {
    defer { buffer = nil }
    guard let buffer, buffer.readableBytes > 0 else { return nil }
    return buffer
  }

  /// How the body of the head just returned is framed.
  mutating func expectBody(_ framing: BodyFraming) {
    switch framing {
    case .none: state = .length(remaining: 0)
    case .length(let length): state = .length(remaining: length)
    case .chunked: state = .chunkLine
    case .untilClose: state = .untilClose
    }
  }

  /// The connection closed: the end of a body that runs until close, or nil (a message was cut short, or
  /// none had begun).
  mutating func endOfInput() -> Event? {
    guard case .untilClose = state else { return nil }
    state = .head(scanned: 0)
    return .end(trailers: nil)
  }

  /// The next event, or nil when more bytes are needed.
  mutating func next() throws(HTTP1Error) -> Event? {
    guard var buffer else {
      if case .length(remaining: 0) = state { return finishMessage(trailers: nil) }
      return nil
    }
    defer { self.buffer = buffer.readableBytes > 0 ? buffer : nil }
    while true {
      switch state {
      case .head(let scanned):
        if scanned == 0 { skipLeadingEmptyLines(&buffer) }
        guard let length = try headLength(buffer, scanned: scanned) else { return nil }
        state = .framingPending
        return .head(buffer.readSlice(length: length)!)
      case .framingPending:
        return nil
      case .length(let remaining):
        if remaining == 0 { return finishMessage(trailers: nil) }
        guard buffer.readableBytes > 0 else { return nil }
        let piece = min(remaining, buffer.readableBytes)
        state = .length(remaining: remaining - piece)
        return .body(buffer.readSlice(length: piece)!)
      case .untilClose:
        guard buffer.readableBytes > 0 else { return nil }
        return .body(buffer.readSlice(length: buffer.readableBytes)!)
      case .chunkLine:
        guard let size = try chunkSize(&buffer) else { return nil }
        state = size == 0 ? .trailers(scanned: 0) : .chunkData(remaining: size)
      case .chunkData(let remaining):
        guard buffer.readableBytes > 0 else { return nil }
        let piece = min(remaining, buffer.readableBytes)
        state = piece == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - piece)
        return .body(buffer.readSlice(length: piece)!)
      case .chunkDataEnd:
        guard buffer.readableBytes >= 2 else { return nil }
        guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
          throw .badRequest("chunk data not followed by CRLF")
        }
        state = .chunkLine
      case .trailers(let scanned):
        guard buffer.readableBytes >= 2 else { return nil }
        if scanned == 0, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
          buffer.moveReaderIndex(forwardBy: 2)
          return finishMessage(trailers: nil)
        }
        guard let length = try blockLength(buffer, scanned: scanned, limit: limits.maxTrailerBytes) else {
          if buffer.readableBytes > limits.maxTrailerBytes {
            throw .headersTooLarge("trailer section too large")
          }
          state = .trailers(scanned: max(1, buffer.readableBytes - 3))
          return nil
        }
        let trailers = buffer.readSlice(length: length)!
        try checkTrailers(trailers)
        return finishMessage(trailers: trailers)
      }
    }
  }

  private mutating func finishMessage(trailers: ByteBuffer?) -> Event {
    state = .head(scanned: 0)
    return .end(trailers: trailers)
  }

  /// Ignores empty lines before a request line (RFC 9112 §2.2), as sent by clients that add CRLF after a body.
  private func skipLeadingEmptyLines(_ buffer: inout ByteBuffer) {
    while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
      buffer.moveReaderIndex(forwardBy: 2)
    }
  }

  /// The length of the head at the front of `buffer`, through its empty line; nil when it is not complete.
  private mutating func headLength(_ buffer: ByteBuffer, scanned: Int) throws(HTTP1Error) -> Int? {
    if let length = try blockLength(buffer, scanned: scanned, limit: limits.maxHeadBytes) { return length }
    let available = buffer.readableBytes
    if available > limits.maxHeadBytes { throw .headersTooLarge("header section too large") }
    // A first line still without its end is judged against the request-line limit.
    if readsRequests, available > limits.maxRequestLineBytes,
      buffer.readableBytesView.prefix(limits.maxRequestLineBytes).firstIndex(of: ByteClass.lf) == nil
    {
      throw .uriTooLong()
    }
    state = .head(scanned: max(0, available - 3))
    return nil
  }

  /// Finds the empty line closing a block of lines (LF followed by CRLF, or by a bare LF, which the parser
  /// then refuses). Searching resumes at `scanned` so that a head sent a byte at a time costs linear time.
  private func blockLength(_ buffer: ByteBuffer, scanned: Int, limit: Int) throws(HTTP1Error) -> Int? {
    buffer.withUnsafeReadableBytes { bytes -> Int? in
      let count = min(bytes.count, limit + 1)
      var position = scanned
      if position == 0, count >= 2, bytes[0] == ByteClass.cr, bytes[1] == ByteClass.lf { return 2 }
      while position < count {
        guard bytes[position] == ByteClass.lf else {
          position += 1
          continue
        }
        if position + 1 < count, bytes[position + 1] == ByteClass.lf { return position + 2 }
        if position + 2 < count, bytes[position + 1] == ByteClass.cr, bytes[position + 2] == ByteClass.lf {
          return position + 3
        }
        if position + 2 >= count { return nil }
        position += 1
      }
      return nil
    }
  }

  /// Reads a chunk-size line: hexadecimal digits, optional extensions, CRLF. Nil when it is not complete.
  private func chunkSize(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> Int? {
    let limit = limits.maxChunkLineBytes
    let parsed: Result<(size: Int, length: Int)?, HTTP1Error> = buffer.withUnsafeReadableBytes { bytes in
      guard let lineFeed = bytes.prefix(limit).firstIndex(of: ByteClass.lf) else {
        return bytes.count >= limit ? .failure(.badRequest("chunk-size line too long")) : .success(nil)
      }
      guard lineFeed > 0, bytes[lineFeed - 1] == ByteClass.cr else { return .failure(.badRequest("bare LF")) }
      let end = lineFeed - 1
      var position = 0
      var size = 0
      while position < end, let digit = ByteClass.hexValue(bytes[position]) {
        guard position < 15 else { return .failure(.badRequest("chunk size too large")) }
        size = size << 4 | digit
        position += 1
      }
      guard position > 0 else { return .failure(.badRequest("invalid chunk size")) }
      // Extensions (ignored): optional whitespace, then `;` and visible characters.
      while position < end, ByteClass.isWhitespace(bytes[position]) { position += 1 }
      if position < end {
        guard bytes[position] == UInt8(ascii: ";") else { return .failure(.badRequest("invalid chunk size")) }
        while position < end {
          guard ByteClass.isFieldValue(bytes[position]) else {
            return .failure(.badRequest("control character in a chunk extension"))
          }
          position += 1
        }
      }
      return .success((size, lineFeed + 1))
    }
    guard let line = try parsed.get() else { return nil }
    buffer.moveReaderIndex(forwardBy: line.length)
    return line.size
  }

  private func checkTrailers(_ trailers: ByteBuffer) throws(HTTP1Error) {
    _ = try HeadParser.trailerSection(trailers, limits: limits)
  }
}
