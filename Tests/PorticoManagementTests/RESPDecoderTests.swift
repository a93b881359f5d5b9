import NIOCore
import XCTest

@testable import PorticoRedis

/// Redis replies as RESP2 writes them: whole values, values split across reads, and malformed input,
/// which fails rather than being guessed at.
final class RESPDecoderTests: XCTestCase {
  private func parse(_ text: String) throws -> RESPValue? {
    var buffer = ByteBuffer(string: text)
    return try RESPDecoder.parse(&buffer)
  }

  func testEveryReplyKind() throws {
    XCTAssertEqual(try parse("+OK\r\n"), .simple("OK"))
    XCTAssertEqual(try parse("-MOVED 3999 127.0.0.1:6381\r\n"), .error("MOVED 3999 127.0.0.1:6381"))
    XCTAssertEqual(try parse(":42\r\n"), .integer(42))
    XCTAssertEqual(try parse(":-7\r\n"), .integer(-7))
    XCTAssertEqual(try parse(":9223372036854775807\r\n"), .integer(.max))
    XCTAssertEqual(try parse("$5\r\nhello\r\n"), .bulk(ByteBuffer(string: "hello")))
    XCTAssertEqual(try parse("$-1\r\n"), .bulk(nil))
    XCTAssertEqual(
      try parse("*2\r\n:1\r\n$1\r\na\r\n"), .array([.integer(1), .bulk(ByteBuffer(string: "a"))]))
    XCTAssertEqual(try parse("*-1\r\n"), .array(nil))
  }

  func testAnUnfinishedValueWaitsForMoreBytes() throws {
    for partial in [":4", ":42\r", "$5\r\nhel", "*2\r\n:1\r\n", "*2\r\n:1\r\n$1\r\na"] {
      XCTAssertNil(try parse(partial), partial)
    }
  }

  func testMalformedRepliesAreRefused() {
    for bad in [
      "\r\n", "?x\r\n", ":\r\n", ":-\r\n", ":12a\r\n", ":99999999999999999999\r\n", "$abc\r\n",
      "$\(RESPDecoder.maximumBulk + 1)\r\n", "*\(RESPDecoder.maximumElements + 1)\r\n",
    ] {
      XCTAssertThrowsError(try parse(bad), bad.debugDescription)
    }
  }

  func testIncrementIsEncodedAsABulkArray() {
    var buffer = ByteBuffer()
    RESPEncoder.writeIncrement("rl:k", by: 12, into: &buffer)
    XCTAssertEqual(String(buffer: buffer), "*3\r\n$6\r\nINCRBY\r\n$4\r\nrl:k\r\n$2\r\n12\r\n")
  }
}
