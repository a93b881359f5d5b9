import CZlib
import NIOCore

/// Inflates a gzip or zlib-wrapped deflate body piece by piece (zlib detects which from its header). Each
/// piece's output is bounded, so that a small compressed piece cannot make the gateway hold gigabytes.
final class Inflater {
  struct Failure: Error {
    let reason: String
  }

  private var stream = z_stream()
  private var ready = false
  private var finished = false
  /// The most one compressed piece may inflate to.
  static let pieceBound = 64 << 20

  init() {
    ready = portico_inflate_init(&stream) == Z_OK
  }

  deinit { if ready { inflateEnd(&stream) } }

  /// The bytes `piece` inflates to.
  func inflate(_ piece: ByteBuffer) throws(Failure) -> [UInt8] {
    guard ready else { throw Failure(reason: "zlib could not start") }
    guard !finished, piece.readableBytes > 0 else { return [] }
    var output: [UInt8] = []
    var status = Z_OK
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    piece.withUnsafeReadableBytes { input in
      stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
      stream.avail_in = uInt(input.count)
      repeat {
        chunk.withUnsafeMutableBufferPointer { buffer in
          stream.next_out = buffer.baseAddress
          stream.avail_out = uInt(buffer.count)
          status = CZlib.inflate(&stream, Z_NO_FLUSH)
          output.append(contentsOf: buffer[0..<(buffer.count - Int(stream.avail_out))])
        }
      } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
        && output.count <= Self.pieceBound
      stream.next_in = nil
    }
    if status == Z_STREAM_END { finished = true }
    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
      throw Failure(reason: "the body does not inflate (zlib status \(status))")
    }
    guard output.count <= Self.pieceBound else {
      throw Failure(reason: "the body inflates past 64 MiB a piece")
    }
    return output
  }
}
