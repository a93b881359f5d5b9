import NIOCore

/// The checks every head shares (RFC 9112 §2 and §5): lines end in CRLF, field names are tokens followed
/// directly by a colon, values hold no control characters, no line is folded. Anything else is refused
/// rather than guessed at, so that the gateway and the server behind it can never read one message
/// differently.
enum HeadParser {
  /// Runs `body` over the buffer's readable bytes, carrying its typed error out of the closure.
  static func parsing<T>(
    _ buffer: ByteBuffer, _ body: (UnsafeRawBufferPointer) throws(HTTP1Error) -> T
  ) throws(HTTP1Error) -> T {
    let result: Result<T, HTTP1Error> = buffer.withUnsafeReadableBytes { bytes in
      do throws(HTTP1Error) {
        return .success(try body(bytes))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// Reads field lines from `start` to the empty line that closes the block, appending each to `fields`.
  /// Returns the offset just past the empty line.
  static func parseFields(
    _ bytes: UnsafeRawBufferPointer, from start: Int, limits: HTTP1Limits, into fields: inout [FieldSpan],
    sawHighBit: inout Bool
  ) throws(HTTP1Error) -> Int {
    let count = bytes.count
    var position = start
    while true {
      guard position < count else { throw .badRequest("header section does not end with an empty line") }
      let first = bytes[position]
      if first == ByteClass.cr {
        guard position + 1 < count, bytes[position + 1] == ByteClass.lf else { throw .badRequest("bare CR") }
        return position + 2
      }
      if first == ByteClass.lf { throw .badRequest("bare LF") }
      if ByteClass.isWhitespace(first) { throw .badRequest("obsolete line folding") }
      let nameStart = position
      while position < count, ByteClass.isToken(bytes[position]) { position += 1 }
      guard position < count, bytes[position] == ByteClass.colon else {
        if position < count, ByteClass.isWhitespace(bytes[position]) {
          throw .badRequest("whitespace between a field name and the colon")
        }
        throw .badRequest("invalid field name")
      }
      guard position > nameStart else { throw .badRequest("empty field name") }
      let nameEnd = position
      position += 1
      while position < count, ByteClass.isWhitespace(bytes[position]) { position += 1 }
      let valueStart = position
      var valueEnd = position
      while position < count {
        let byte = bytes[position]
        if byte == ByteClass.cr { break }
        guard ByteClass.isFieldValue(byte) else {
          throw .badRequest(byte == ByteClass.lf ? "bare LF" : "control character in a field value")
        }
        if byte >= 0x80 { sawHighBit = true }
        position += 1
        if !ByteClass.isWhitespace(byte) { valueEnd = position }
      }
      guard position + 1 < count, bytes[position + 1] == ByteClass.lf else { throw .badRequest("bare CR") }
      position += 2
      guard fields.count < limits.maxFieldCount else { throw .headersTooLarge("too many header fields") }
      fields.append(
        FieldSpan(
          nameStart: Int32(nameStart), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart),
          valueEnd: Int32(valueEnd), lineEnd: Int32(position),
          kind: KnownField.classify(bytes, from: nameStart, to: nameEnd)))
    }
  }

  /// The head's bytes as a string. Non-ASCII bytes must be well-formed UTF-8: a head the gateway cannot
  /// represent exactly is refused, never repaired.
  static func text(of bytes: UnsafeRawBufferPointer, sawHighBit: Bool) throws(HTTP1Error) -> String {
    guard sawHighBit else { return String(decoding: bytes, as: UTF8.self) }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw .badRequest("header bytes are not valid UTF-8")
    }
    return text
  }

  /// Parses a decimal Content-Length value: digits only, at most 18 of them.
  static func contentLength(_ bytes: UnsafeRawBufferPointer, _ field: FieldSpan) throws(HTTP1Error) -> Int {
    let start = Int(field.valueStart)
    let end = Int(field.valueEnd)
    guard end > start, end - start <= 18 else { throw .badRequest("invalid Content-Length") }
    var value = 0
    for position in start..<end {
      let digit = bytes[position] &- UInt8(ascii: "0")
      guard digit < 10 else { throw .badRequest("invalid Content-Length") }
      value = value * 10 + Int(digit)
    }
    return value
  }

  /// Reads `HTTP/1.x` at `start`; returns the minor version. A major version above 1 is 505; `HTTP/0.x` is
  /// 400, since HTTP/0.9 requests carry no version and no message ever names one.
  static func version(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(HTTP1Error) -> Int {
    guard start + 8 <= bytes.count, KnownField.matchesExactly(bytes, at: start, "HTTP/") else {
      throw .badRequest("invalid HTTP version")
    }
    let major = bytes[start + 5] &- UInt8(ascii: "0")
    let minor = bytes[start + 7] &- UInt8(ascii: "0")
    guard major < 10, bytes[start + 6] == UInt8(ascii: "."), minor < 10 else {
      throw .badRequest("invalid HTTP version")
    }
    guard major != 0 else { throw .badRequest("invalid HTTP version") }
    guard major == 1 else { throw .versionNotSupported() }
    return Int(minor)
  }
}

extension HeadParser {
  /// A trailer section (its field lines and the closing empty line), parsed like a head's fields.
  static func trailerSection(_ buffer: ByteBuffer, limits: HTTP1Limits) throws(HTTP1Error) -> MessageHead {
    try parsing(buffer) { bytes throws(HTTP1Error) in
      var fields: [FieldSpan] = []
      var sawHighBit = false
      _ = try parseFields(bytes, from: 0, limits: limits, into: &fields, sawHighBit: &sawHighBit)
      return MessageHead(text: try text(of: bytes, sawHighBit: sawHighBit), fields: fields)
    }
  }
}

/// A head read from a complete block of bytes (through its closing empty line): a request or a response.
protocol ParsedHead {
  /// Parses `bytes`, appending the offsets of its fields to `fields` (empty, with room reserved).
  static func parse(_ bytes: UnsafeRawBufferPointer, limits: HTTP1Limits, fields: inout [FieldSpan])
    throws(HTTP1Error) -> Self
}

extension ParsedHead {
  static func parse(_ buffer: ByteBuffer, limits: HTTP1Limits) throws(HTTP1Error) -> Self {
    var fields: [FieldSpan] = []
    return try parse(buffer, limits: limits, reusing: &fields)
  }

  /// Parses a head into `fields`, an array passed from one head to the next (lent by the loop for requests,
  /// kept by the upstream connection for responses). Its storage is used again only when no head holds it
  /// any more (otherwise emptying it gives it storage of its own); one that grew for a head with many
  /// fields is let go rather than kept.
  static func parse(
    _ buffer: ByteBuffer, limits: HTTP1Limits, reusing fields: inout [FieldSpan]
  ) throws(HTTP1Error) -> Self {
    if fields.capacity > 64 { fields = [] }
    fields.removeAll(keepingCapacity: true)
    if fields.capacity < 16 { fields.reserveCapacity(16) }
    return try HeadParser.parsing(buffer) { bytes throws(HTTP1Error) in
      try parse(bytes, limits: limits, fields: &fields)
    }
  }
}
