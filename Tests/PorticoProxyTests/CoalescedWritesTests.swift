import NIOCore
import NIOEmbedded
import XCTest

@testable import PorticoProxy

/// The gathering of an HTTP/2 connection's frames between flushes: small writes leave as one, in order,
/// large ones are not copied, and every write's promise is kept.
final class CoalescedWritesTests: XCTestCase {
  /// Gathers writes as the connection's handler does, and passes them on at each flush.
  final class Gatherer: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var writes = CoalescedWrites()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
      writes.append(unwrapOutboundIn(data), promise: promise, context: context)
    }

    func flush(context: ChannelHandlerContext) {
      writes.write(to: context)
      context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
      writes.fail(ChannelError.ioOnClosedChannel)
      context.close(mode: mode, promise: promise)
    }
  }

  var channel: EmbeddedChannel!

  override func setUp() async throws {
    channel = EmbeddedChannel(handler: Gatherer())
  }

  private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

  private func wire() throws -> [String] {
    var written: [String] = []
    while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
      written.append(String(buffer: buffer))
    }
    return written
  }

  func testSmallWritesLeaveTogetherAtTheFlush() throws {
    var completed = 0
    for text in ["one ", "two ", "three"] {
      let promise = channel.eventLoop.makePromise(of: Void.self)
      promise.futureResult.whenSuccess { completed += 1 }
      channel.write(buffer(text), promise: promise)
    }
    XCTAssertEqual(try wire(), [], "nothing leaves before the flush")
    XCTAssertEqual(completed, 0)
    channel.flush()
    XCTAssertEqual(try wire(), ["one two three"])
    XCTAssertEqual(completed, 3)
  }

  func testTheBufferIsUsedAgainWithoutOldBytes() throws {
    channel.writeAndFlush(buffer("first"), promise: nil)
    XCTAssertEqual(try wire(), ["first"])
    channel.write(buffer("se"), promise: nil)
    channel.writeAndFlush(buffer("cond"), promise: nil)
    XCTAssertEqual(try wire(), ["second"])
    channel.flush()
    XCTAssertEqual(try wire(), [], "a flush with nothing gathered writes nothing")
  }

  func testLargeWritesPassThroughInOrder() throws {
    let large = String(repeating: "x", count: CoalescedWrites.copyLimit)
    channel.write(buffer("head "), promise: nil)
    channel.write(buffer(large), promise: nil)
    channel.write(buffer(" tail"), promise: nil)
    channel.flush()
    XCTAssertEqual(try wire(), ["head ", large, " tail"])
  }

  func testGatheredWritesFailWhenTheConnectionCloses() throws {
    let promise = channel.eventLoop.makePromise(of: Void.self)
    var failed = false
    promise.futureResult.whenFailure { _ in failed = true }
    channel.write(buffer("never sent"), promise: promise)
    _ = try? channel.close().wait()
    XCTAssertTrue(failed)
  }
}
