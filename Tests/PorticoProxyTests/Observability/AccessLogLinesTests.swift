import Foundation
import NIOCore
import NIOEmbedded
import XCTest

@testable import PorticoProxy

/// The access log's own formatting (timestamps, JSON strings, milliseconds) and its batching: lines reach
/// the file once a batch is full or its delay has passed, never one write per request.
final class AccessLogLinesTests: XCTestCase {
  func testTimestampsMatchISO8601InUTC() {
    let reference = ISO8601DateFormatter()
    reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    var clock = UTCTimestamp()
    let seconds: [Double] = [
      0, 951_782_400.5, 951_868_799.999, 1_709_164_800.042, 1_709_164_800.951, 1_709_164_800.951,
      4_107_542_400.001, 1_798_761_599.123,
      1_795_737_287.175, -86_400.25, 2_000_000_000.9,
    ]
    for second in seconds {
      let date = Date(timeIntervalSince1970: second)
      var buffer = ByteBuffer()
      clock.write(date, into: &buffer)
      XCTAssertEqual(String(buffer: buffer), reference.string(from: date), "\(second)")
    }
  }

  func testStringsAreEscapedForJSON() {
    var buffer = ByteBuffer(string: "\"")
    JSONString.writeEscaped("a\"b\\c\nd\re\tf\u{01}g/é", into: &buffer)
    buffer.writeString("\"")
    XCTAssertEqual(String(buffer: buffer), #""a\"b\\c\nd\re\tf\u0001g/é""#)
    let decoded = try? JSONSerialization.jsonObject(
      with: Data(buffer.readableBytesView), options: .fragmentsAllowed)
    XCTAssertEqual(decoded as? String, "a\"b\\c\nd\re\tf\u{01}g/é")
  }

  func testMillisecondsHaveThreeDecimals() {
    func text(_ nanoseconds: Int64) -> String {
      var buffer = ByteBuffer()
      AccessRecord.writeMilliseconds(.nanoseconds(nanoseconds), into: &buffer)
      return String(buffer: buffer)
    }
    XCTAssertEqual(text(3_056_000), "3.056")
    XCTAssertEqual(text(0), "0.000")
    XCTAssertEqual(text(1_499), "0.001")
    XCTAssertEqual(text(40_000), "0.040")
    XCTAssertEqual(text(1_234_567_890), "1234.568")
  }

  func testLinesWaitForTheirBatchThenLeaveTogether() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID()).log").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let log = try AccessLog(.file(path))
    let loop = EmbeddedEventLoop()
    let lines = AccessLogLines(log: log, eventLoop: loop)
    func written() -> [String] {
      log.flush()
      return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(
        String.init)
    }

    lines.append(record(path: "/one"))
    lines.append(record(path: "/two"))
    XCTAssertEqual(written(), [], "lines wait for the batch's delay")
    loop.advanceTime(by: AccessLogLines.handOverDelay)
    let first = written()
    XCTAssertEqual(first.count, 2)
    XCTAssertTrue(first[0].contains(#""path":"/one""#), first[0])

    // A full batch leaves at once; what follows it waits for its own delay.
    let long = String(repeating: "x", count: 1_000)
    let count = AccessLogLines.batchLimit / 1_000
    for _ in 0..<count { lines.append(record(path: long[...])) }
    let full = written().count
    XCTAssertGreaterThan(full, 2, "a full batch is written without waiting")
    XCTAssertLessThan(full, 2 + count)
    loop.advanceTime(by: AccessLogLines.handOverDelay)
    XCTAssertEqual(written().count, 2 + count)
    let line = try XCTUnwrap(written().last)
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    XCTAssertEqual(object["status"] as? Int, 200)
    XCTAssertEqual(object["duration_ms"] as? Double, 3.056)
    XCTAssertEqual(object["flags"] as? String, "UT,DC")
    XCTAssertEqual(object["method"] as? String, "GET")
    XCTAssertEqual(object["authority"] as? String, "shop.local")
    XCTAssertEqual(object["upstream"] as? String, "127.0.0.1:9101")
    XCTAssertEqual(object["upstream_ms"] as? Double, 2.75)
    XCTAssertEqual(object["route"] as? String, "api")
    XCTAssertEqual(object["request_id"] as? String, "id")
    XCTAssertEqual((object["time"] as? String)?.count, 24)
  }

  /// The log is appended to: lines already there stay, and after the file is truncated (rotation by
  /// `copytruncate`) the next lines start at its top.
  func testTheFileIsAppendedTo() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID()).log").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "earlier\n".write(toFile: path, atomically: false, encoding: .utf8)
    let log = try AccessLog(.file(path))
    let lines = AccessLogLines(log: log, eventLoop: EmbeddedEventLoop())
    lines.append(record(path: "/first"))
    lines.handOver()
    log.flush()
    let before = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(before.hasPrefix("earlier\n{"), before)
    try FileHandle(forWritingAtPath: path).map { $0.truncateFile(atOffset: 0) }
    lines.append(record(path: "/second"))
    lines.handOver()
    log.flush()
    let after = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertEqual(after.first, UInt8(ascii: "{"), "no hole where the rotated lines were")
    XCTAssertTrue(String(decoding: after, as: UTF8.self).contains(#""path":"/second""#))
  }

  /// A log that refuses writes (here a full device; a reader that went away does the same) loses those lines,
  /// counted, and the gateway goes on.
  func testARefusedWriteDropsItsLinesAndCountsThem() throws {
    guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full here") }
    let metrics = GatewayMetrics()
    let log = try AccessLog(.file("/dev/full"), droppedLines: metrics.accessLogLinesDropped)
    let lines = AccessLogLines(log: log, eventLoop: EmbeddedEventLoop())
    for _ in 0..<3 { lines.append(record(path: "/")) }
    lines.handOver()
    lines.append(record(path: "/again"))
    lines.handOver()
    log.flush()
    XCTAssertTrue(
      metrics.exposition().contains("portico_access_log_lines_dropped_total 4"), metrics.exposition())
  }

  /// A reader that stops reading holds the writer up. Past the pending limit new batches are dropped and
  /// counted rather than queued, so the gateway's memory stays bounded; what was queued still arrives.
  func testBatchesPastThePendingLimitAreDroppedWhileTheReaderStalls() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID()).fifo").path
    guard mkfifo(path, 0o600) == 0 else { throw XCTSkip("no FIFO here") }
    defer { unlink(path) }
    let reader = open(path, O_RDONLY | O_NONBLOCK)
    XCTAssertGreaterThanOrEqual(reader, 0)
    defer { close(reader) }
    let metrics = GatewayMetrics()
    let log = try AccessLog(
      .file(path), droppedLines: metrics.accessLogLinesDropped, pendingLimit: 256 * 1024)
    var batch = ByteBuffer()
    for _ in 0..<64 { batch.writeString(String(repeating: "x", count: 1023) + "\n") }  // 64 lines, 64 KiB

    for _ in 0..<16 { log.write(batch) }  // 1 MiB, where a pipe holds 64 KiB and 256 KiB may wait
    let dropped = try XCTUnwrap(
      metrics.exposition().split(separator: "\n").first {
        $0.hasPrefix("portico_access_log_lines_dropped_total ")
      }
      .flatMap { Int($0.split(separator: " ")[1]) })
    XCTAssertGreaterThanOrEqual(dropped, 64 * 10, "at most 256 KiB waited, plus what the writer had taken")
    XCTAssertEqual(dropped % 64, 0, "whole batches are dropped")

    // The reader comes back: everything that was not dropped arrives.
    var received = 0
    var buffer = [UInt8](repeating: 0, count: 65_536)
    let expected = (16 * 64 - dropped) * 1024
    let deadline = Date().addingTimeInterval(10)
    while received < expected, Date() < deadline {
      let count = read(reader, &buffer, buffer.count)
      if count > 0 { received += count } else { usleep(1_000) }
    }
    log.flush()
    XCTAssertEqual(received, expected)
  }

  private func record(path: Substring) -> AccessRecord {
    AccessRecord(
      time: Date(), method: "GET", authority: "shop.local", path: path, status: 200, bytesIn: 0, bytesOut: 2,
      duration: .nanoseconds(3_056_000), upstreamAddress: "127.0.0.1:9101",
      upstreamDuration: .microseconds(2_750),
      route: "api", flags: [.upstreamTimeout, .downstreamReset], requestID: .given("id"))
  }
}
