import Foundation
import NIOCore

/// One event loop's access log lines. A request's line is formatted where the request ends, straight from
/// the request's own bytes, and the loop's lines are handed to the `AccessLog` in batches: once
/// `batchLimit` bytes have gathered, and at the latest `handOverDelay` after the first line of a batch.
/// A busy loop pays one hand-over and one write for hundreds of requests, not one of each per request.
final class AccessLogLines {
  static let batchLimit = 64 * 1024
  static let handOverDelay = TimeAmount.milliseconds(100)

  private let log: AccessLog
  private let eventLoop: EventLoop
  private var lines: ByteBuffer
  private var handOverScheduled = false
  private var clock = UTCTimestamp()

  init(log: AccessLog, eventLoop: EventLoop) {
    self.log = log
    self.eventLoop = eventLoop
    lines = ByteBuffer()
  }

  var isEnabled: Bool { log.isEnabled }

  func append(_ record: AccessRecord) {
    guard log.isEnabled else { return }
    record.writeJSONLine(into: &lines, clock: &clock)
    if lines.readableBytes >= Self.batchLimit { return handOver() }
    guard !handOverScheduled else { return }
    handOverScheduled = true
    eventLoop.assumeIsolated().scheduleTask(in: Self.handOverDelay) { [self] in
      handOverScheduled = false
      handOver()
    }
  }

  /// Hands the lines kept so far to the log.
  func handOver() {
    guard lines.readableBytes > 0 else { return }
    let batch = lines
    lines = ByteBuffer()
    lines.reserveCapacity(min(batch.readableBytes, Self.batchLimit) + 4096)
    log.write(batch)
  }
}

/// What the access log says about one request. Request parts are slices of the request's head.
struct AccessRecord {
  var time: Date
  var method: Substring
  var authority: Substring
  var path: Substring
  var status: Int
  var bytesIn: Int
  var bytesOut: Int
  var duration: TimeAmount
  var upstreamAddress: String?
  var upstreamDuration: TimeAmount?
  var route: String?
  var flags: [ResponseFlag]
  var requestID: RequestID

  /// Appends the record as one JSON object and a line feed. Each separator carries the quotes around it, so
  /// that a line is few writes.
  func writeJSONLine(into buffer: inout ByteBuffer, clock: inout UTCTimestamp) {
    buffer.writeStaticString("{\"time\":\"")
    clock.write(time, into: &buffer)
    buffer.writeStaticString("\",\"method\":\"")
    JSONString.writeEscaped(method, into: &buffer)
    buffer.writeStaticString("\",\"authority\":\"")
    JSONString.writeEscaped(authority, into: &buffer)
    buffer.writeStaticString("\",\"path\":\"")
    JSONString.writeEscaped(path, into: &buffer)
    buffer.writeStaticString("\",\"status\":")
    buffer.writeString(String(status))
    buffer.writeStaticString(",\"bytes_in\":")
    buffer.writeString(String(bytesIn))
    buffer.writeStaticString(",\"bytes_out\":")
    buffer.writeString(String(bytesOut))
    buffer.writeStaticString(",\"duration_ms\":")
    Self.writeMilliseconds(duration, into: &buffer)
    Self.writeOptional(",\"upstream\":\"", upstreamAddress, into: &buffer)
    if let upstreamDuration {
      buffer.writeStaticString(",\"upstream_ms\":")
      Self.writeMilliseconds(upstreamDuration, into: &buffer)
    }
    Self.writeOptional(",\"route\":\"", route, into: &buffer)
    buffer.writeStaticString(",\"flags\":\"")
    if flags.isEmpty { buffer.writeStaticString("-") }
    for (index, flag) in flags.enumerated() {
      if index > 0 { buffer.writeStaticString(",") }
      buffer.writeString(flag.rawValue)
    }
    buffer.writeStaticString("\",\"request_id\":\"")
    switch requestID {
    case .given(let text): JSONString.writeEscaped(text, into: &buffer)
    case .made: requestID.write(into: &buffer)  // Hex digits and dashes: nothing to escape.
    }
    buffer.writeStaticString("\"}\n")
  }

  /// `separator` (a key and the opening quote), then `value` escaped and the closing quote; nothing
  /// without a value.
  private static func writeOptional(
    _ separator: StaticString, _ value: String?, into buffer: inout ByteBuffer
  ) {
    guard let value else { return }
    buffer.writeStaticString(separator)
    JSONString.writeEscaped(value[...], into: &buffer)
    buffer.writeStaticString("\"")
  }

  /// Milliseconds with three decimals, rounded to the microsecond: `3.056`.
  static func writeMilliseconds(_ amount: TimeAmount, into buffer: inout ByteBuffer) {
    let microseconds = max(0, (amount.nanoseconds + 500) / 1000)
    buffer.writeString(String(microseconds / 1000))
    buffer.writeStaticString(".")
    buffer.writeString((microseconds % 1000).zeroPadded(toWidth: 3))
  }
}
