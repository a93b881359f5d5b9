import NIOCore
import PorticoCore

/// Where a message's bytes go: a client connection or an upstream connection.
protocol ByteSink: AnyObject {
  var allocator: ByteBufferAllocator { get }
  func write(_ buffer: ByteBuffer)
}

/// One message on its way out. The head and small body pieces are gathered into one buffer, so that a
/// typical message leaves in one write (one system call, one trip through the channel); larger pieces go
/// out as they are, never copied. Chunked framing is added here when the message is chunked.
struct OutgoingMessage {
  /// Gathering stops at this size: past it, copying costs more than another write.
  static let gatherLimit = 16 * 1024

  let isChunked: Bool
  private var gathered: ByteBuffer?
  /// Where the gathering buffer goes once handed over, to carry a later message.
  private let reusable: ReusableBuffer?

  /// A message starting with `head`, written into a buffer taken from `reusable` when one is given.
  init(head: ByteBuffer, chunked: Bool, reusable: ReusableBuffer? = nil) {
    gathered = head
    isChunked = chunked
    self.reusable = reusable
  }

  mutating func append(_ piece: ByteBuffer, to sink: some ByteSink) {
    let size = piece.readableBytes
    guard size > 0 else { return }
    if gathered != nil, gathered!.readableBytes + size + 24 <= Self.gatherLimit {
      if isChunked { Self.writeChunkSize(size, into: &gathered!) }
      gathered!.writeImmutableBuffer(piece)
      if isChunked { gathered!.writeStaticString("\r\n") }
      return
    }
    // Too big to gather: what was gathered goes first, then the piece as it is.
    send(to: sink)
    if isChunked {
      var line = sink.allocator.buffer(capacity: 20)
      Self.writeChunkSize(size, into: &line)
      sink.write(line)
      sink.write(piece)
      sink.write(Self.lineEnd)
    } else {
      sink.write(piece)
    }
  }

  /// Ends the message (with the last chunk and any trailers when chunked) and hands over what is gathered.
  mutating func finish(trailers: ByteBuffer?, to sink: some ByteSink) {
    if isChunked {
      if gathered == nil { gathered = sink.allocator.buffer(capacity: 5 + (trailers?.readableBytes ?? 0)) }
      if let trailers {
        gathered!.writeStaticString("0\r\n")
        gathered!.writeImmutableBuffer(trailers)
      } else {
        gathered!.writeStaticString("0\r\n\r\n")
      }
    }
    send(to: sink)
  }

  /// Hands what is gathered to the sink (the caller flushes).
  mutating func send(to sink: some ByteSink) {
    guard let buffer = gathered else { return }
    gathered = nil
    sink.write(buffer)
    reusable?.giveBack(buffer)
  }

  private static let lineEnd = ByteBuffer(string: "\r\n")

  /// Writes `size` in hexadecimal and CRLF: a chunk-size line.
  static func writeChunkSize(_ size: Int, into buffer: inout ByteBuffer) {
    var shift = (Int.bitWidth - size.leadingZeroBitCount + 3) / 4 * 4 - 4
    if shift < 0 { shift = 0 }
    while shift >= 0 {
      let digit = UInt8((size >> shift) & 0xF)
      buffer.writeInteger(UInt8.hexDigit(digit))
      shift -= 4
    }
    buffer.writeStaticString("\r\n")
  }
}
