import NIOCore

/// The buffer an event loop writes outgoing messages into, used again for the next message once the last
/// one has left. When the socket took the last message whole (nearly always, on a keep-alive connection),
/// a message costs no allocation. A buffer still queued in a channel is never written over: `ByteBuffer`
/// gives the next message storage of its own instead.
final class ReusableBuffer {
  private var spare: ByteBuffer?
  private let allocator: ByteBufferAllocator
  /// A larger buffer is let go rather than kept, so that one big message does not pin its memory.
  static let keptCapacityLimit = 64 * 1024

  init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
    self.allocator = allocator
  }

  /// An empty buffer with room for at least `minimumCapacity` bytes.
  func take(minimumCapacity: Int) -> ByteBuffer {
    guard var buffer = spare.take() else { return allocator.buffer(capacity: minimumCapacity) }
    buffer.clear(minimumCapacity: minimumCapacity)
    return buffer
  }

  /// Keeps `buffer`, just handed to a channel, for the message after it.
  func giveBack(_ buffer: ByteBuffer) {
    if buffer.capacity <= Self.keptCapacityLimit { spare = buffer }
  }
}
