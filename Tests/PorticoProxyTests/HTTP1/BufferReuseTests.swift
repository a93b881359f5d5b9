import NIOCore
import XCTest

@testable import PorticoProxy

/// Storage reused from one message to the next must never change a message still in use.
final class BufferReuseTests: XCTestCase {
  private func address(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
    buffer.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
  }

  func testAFreedBufferCarriesTheNextMessage() {
    let reusable = ReusableBuffer()
    var first = reusable.take(minimumCapacity: 100)
    first.writeString("GET / HTTP/1.1\r\n\r\n")
    let firstAddress = address(first)
    reusable.giveBack(first)
    first = ByteBuffer()  // the channel has written it and let go
    var second = reusable.take(minimumCapacity: 100)
    XCTAssertEqual(second.readableBytes, 0)
    second.writeString("HTTP/1.1 200 OK\r\n\r\n")
    XCTAssertEqual(address(second), firstAddress, "the same storage, no allocation")
  }

  func testABufferStillQueuedIsNeverWrittenOver() {
    let reusable = ReusableBuffer()
    var queued = reusable.take(minimumCapacity: 64)
    queued.writeString("first message")
    reusable.giveBack(queued)  // `queued` stands for the copy a channel still holds
    var next = reusable.take(minimumCapacity: 64)
    next.writeString("second")
    XCTAssertEqual(queued.getString(at: 0, length: queued.readableBytes), "first message")
    XCTAssertNotEqual(address(next), address(queued))
    XCTAssertEqual(String(buffer: next), "second")
  }

  func testTakingGrowsToTheCapacityAskedFor() {
    let reusable = ReusableBuffer()
    reusable.giveBack(reusable.take(minimumCapacity: 16))
    XCTAssertGreaterThanOrEqual(reusable.take(minimumCapacity: 5_000).capacity, 5_000)
  }

  func testALargeBufferIsNotKept() {
    let reusable = ReusableBuffer()
    var large = reusable.take(minimumCapacity: ReusableBuffer.keptCapacityLimit * 2)
    large.writeString("big")
    reusable.giveBack(large)
    let largeAddress = address(large)
    large = ByteBuffer()
    var next = reusable.take(minimumCapacity: 10)
    next.writeString("small")
    XCTAssertLessThanOrEqual(next.capacity, ReusableBuffer.keptCapacityLimit)
    XCTAssertNotEqual(address(next), largeAddress)
  }

  func testOutgoingMessagesHandTheirBufferBack() {
    final class Sink: ByteSink {
      var allocator: ByteBufferAllocator { ByteBufferAllocator() }
      var written: [ByteBuffer] = []
      func write(_ buffer: ByteBuffer) { written.append(buffer) }
    }
    let reusable = ReusableBuffer()
    let sink = Sink()
    var head = reusable.take(minimumCapacity: 64)
    head.writeString("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    let headAddress = address(head)
    var message = OutgoingMessage(head: head, chunked: false, reusable: reusable)
    head = ByteBuffer()
    message.append(ByteBuffer(string: "ok"), to: sink)
    message.finish(trailers: nil, to: sink)
    XCTAssertEqual(
      sink.written.map { String(buffer: $0) }, ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"])
    sink.written.removeAll()
    XCTAssertEqual(address(reusable.take(minimumCapacity: 64)), headAddress)
  }

  func testFieldSpansAreReusedOnlyOnceTheHeadBeforeIsGone() throws {
    func storage(_ spans: [FieldSpan]) -> UnsafeRawPointer? {
      spans.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }
    var spans: [FieldSpan] = []
    let limits = HTTP1Limits()
    var first: RequestHead? = try RequestHead.parse(
      ByteBuffer(string: "GET /a HTTP/1.1\r\nhost: a.test\r\nx-one: 1\r\n\r\n"), limits: limits,
      reusing: &spans)
    // While the first head lives, the second gets spans of its own and the first keeps its fields.
    var second: ResponseHead? = try ResponseHead.parse(
      ByteBuffer(string: "HTTP/1.1 204 No Content\r\nx-two: 2\r\n\r\n"), limits: limits, reusing: &spans)
    XCTAssertEqual(first?.head.firstValue(named: "x-one"), "1")
    XCTAssertEqual(first?.head.fields.count, 2)
    XCTAssertEqual(second?.head.firstValue(named: "x-two"), "2")
    XCTAssertNotEqual(storage(first!.head.fields), storage(second!.head.fields))
    first = nil
    second = nil
    let free = storage(spans)
    let third = try RequestHead.parse(
      ByteBuffer(string: "GET /c HTTP/1.1\r\nhost: c.test\r\n\r\n"), limits: limits, reusing: &spans)
    XCTAssertEqual(third.authority, "c.test")
    XCTAssertEqual(third.head.fields.count, 1)
    XCTAssertEqual(storage(third.head.fields), free, "the freed spans carry the next head")
  }

  func testAGrownFieldArrayIsLetGo() throws {
    var spans: [FieldSpan] = []
    let fields = (0..<90).map { "x-\($0): v\r\n" }.joined()
    _ = try RequestHead.parse(
      ByteBuffer(string: "GET / HTTP/1.1\r\nhost: a\r\n\(fields)\r\n"), limits: HTTP1Limits(), reusing: &spans
    )
    XCTAssertGreaterThan(spans.capacity, 64)
    _ = try RequestHead.parse(
      ByteBuffer(string: "GET / HTTP/1.1\r\nhost: a\r\n\r\n"), limits: HTTP1Limits(), reusing: &spans)
    XCTAssertLessThanOrEqual(spans.capacity, 64)
  }

  func testFieldArraysPassFromOneRequestToTheNextThroughTheLoopsPool() throws {
    func storage(_ spans: [FieldSpan]) -> UnsafeRawPointer? {
      spans.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }
    let pool = FieldArrayPool()
    var fields = pool.take()
    var first: RequestHead? = try RequestHead.parse(
      ByteBuffer(string: "GET /a HTTP/1.1\r\nhost: a.test\r\n\r\n"), limits: HTTP1Limits(), reusing: &fields)
    let firstStorage = storage(first!.head.fields)
    fields = []  // the connection keeps none
    pool.giveBack(first!.head.fields)  // its exchange ended
    first = nil
    var next = pool.take()
    let second = try RequestHead.parse(
      ByteBuffer(string: "GET /b HTTP/1.1\r\nhost: b.test\r\n\r\n"), limits: HTTP1Limits(), reusing: &next)
    XCTAssertEqual(second.authority, "b.test")
    XCTAssertEqual(storage(second.head.fields), firstStorage)
  }

  func testThePoolKeepsNoMoreThanItsLimit() {
    let pool = FieldArrayPool()
    for _ in 0...FieldArrayPool.limit {
      var fields: [FieldSpan] = []
      fields.reserveCapacity(1)
      pool.giveBack(fields)
    }
    let taken = (0...FieldArrayPool.limit).map { _ in pool.take() }
    XCTAssertEqual(taken.filter { $0.capacity > 0 }.count, FieldArrayPool.limit)
  }
}
