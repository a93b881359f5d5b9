import NIOCore
import NIOEmbedded
import XCTest

@testable import PorticoProxy

/// The gathering of an HTTP/2 connection's frames: flushes wait for the end of the loop's batch of
/// events, small writes leave as one, in order, large ones are not copied, and every promise is kept.
final class HTTP2WriteCoalescerTests: XCTestCase {
  var channel: EmbeddedChannel!

  override func setUp() async throws {
    channel = EmbeddedChannel(handler: HTTP2WriteCoalescer())
  }

  private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

  /// What has reached the socket so far, one entry per write.
  private func wire() throws -> [String] {
    var written: [String] = []
    while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
      written.append(String(buffer: buffer))
    }
    return written
  }

  func testFlushesWaitForTheEndOfTheBatchAndWritesLeaveTogether() throws {
    var completed = 0
    for text in ["one ", "two ", "three"] {
      let promise = channel.eventLoop.makePromise(of: Void.self)
      promise.futureResult.assumeIsolated().whenSuccess { completed += 1 }
      channel.writeAndFlush(buffer(text), promise: promise)
    }
    XCTAssertEqual(try wire(), [], "nothing leaves while the loop is still handling events")
    XCTAssertEqual(completed, 0)
    channel.embeddedEventLoop.run()
    XCTAssertEqual(try wire(), ["one two three"])
    XCTAssertEqual(completed, 3)
  }

  func testTheBufferIsUsedAgainWithoutOldBytes() throws {
    channel.writeAndFlush(buffer("first"), promise: nil)
    channel.embeddedEventLoop.run()
    XCTAssertEqual(try wire(), ["first"])
    channel.write(buffer("se"), promise: nil)
    channel.writeAndFlush(buffer("cond"), promise: nil)
    channel.embeddedEventLoop.run()
    XCTAssertEqual(try wire(), ["second"])
    channel.flush()
    channel.embeddedEventLoop.run()
    XCTAssertEqual(try wire(), [], "a flush with nothing gathered writes nothing")
  }

  func testLargeWritesPassThroughInOrder() throws {
    let large = String(repeating: "x", count: HTTP2WriteCoalescer.copyLimit)
    channel.write(buffer("head "), promise: nil)
    channel.write(buffer(large), promise: nil)
    channel.writeAndFlush(buffer(" tail"), promise: nil)
    channel.embeddedEventLoop.run()
    XCTAssertEqual(try wire(), ["head ", large, " tail"])
  }

  func testWhatIsGatheredLeavesBeforeAClose() throws {
    channel.writeAndFlush(buffer("goaway"), promise: nil)
    _ = try? channel.close().wait()
    XCTAssertEqual(try wire(), ["goaway"])
  }

  func testGatheredWritesFailWhenTheConnectionIsLost() throws {
    let promise = channel.eventLoop.makePromise(of: Void.self)
    var failed = false
    promise.futureResult.assumeIsolated().whenFailure { _ in failed = true }
    channel.write(buffer("never sent"), promise: promise)
    channel.pipeline.fireChannelInactive()
    XCTAssertTrue(failed)
  }
}
