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
  var requestID: String

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
    if let upstreamAddress {
      buffer.writeStaticString(",\"upstream\":\"")
      JSONString.writeEscaped(upstreamAddress[...], into: &buffer)
      buffer.writeStaticString("\"")
    }
    if let upstreamDuration {
      buffer.writeStaticString(",\"upstream_ms\":")
      Self.writeMilliseconds(upstreamDuration, into: &buffer)
    }
    if let route {
      buffer.writeStaticString(",\"route\":\"")
      JSONString.writeEscaped(route[...], into: &buffer)
      buffer.writeStaticString("\"")
    }
    buffer.writeStaticString(",\"flags\":\"")
    if flags.isEmpty { buffer.writeStaticString("-") }
    for (index, flag) in flags.enumerated() {
      if index > 0 { buffer.writeStaticString(",") }
      buffer.writeString(flag.rawValue)
    }
    buffer.writeStaticString("\",\"request_id\":\"")
    JSONString.writeEscaped(requestID[...], into: &buffer)
    buffer.writeStaticString("\"}\n")
  }

  /// Milliseconds with three decimals, rounded to the microsecond: `3.056`.
  static func writeMilliseconds(_ amount: TimeAmount, into buffer: inout ByteBuffer) {
    let microseconds = max(0, (amount.nanoseconds + 500) / 1000)
    buffer.writeString(String(microseconds / 1000))
    buffer.writeStaticString(".")
    let fraction = microseconds % 1000
    if fraction < 100 { buffer.writeStaticString("0") }
    if fraction < 10 { buffer.writeStaticString("0") }
    buffer.writeString(String(fraction))
  }
}

/// Text inside a JSON string: `"`, `\` and control characters escaped, everything else as it is (the text
/// is UTF-8 already). Runs of bytes that need no escape are copied whole.
enum JSONString {
  /// Writes `text` escaped, without the quotes around it.
  static func writeEscaped(_ text: Substring, into buffer: inout ByteBuffer) {
    let written: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
      writeEscaped(UnsafeRawBufferPointer(bytes), into: &buffer)
    }
    if written == nil {
      var copy = String(text)
      copy.withUTF8 { writeEscaped(UnsafeRawBufferPointer($0), into: &buffer) }
    }
  }

  private static func writeEscaped(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
    var runStart = 0
    for index in 0..<bytes.count {
      let byte = bytes[index]
      guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
      buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
      runStart = index + 1
      switch byte {
      case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
      case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
      case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
      case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
      case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
      default:
        buffer.writeStaticString("\\u00")
        buffer.writeInteger(hexDigits[Int(byte >> 4)])
        buffer.writeInteger(hexDigits[Int(byte & 0xF)])
      }
    }
    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]))
  }

  private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// Writes wall-clock times as ISO 8601 in UTC with milliseconds (`2026-11-26T23:54:47.175Z`). The text is
/// made once per millisecond, and the calendar date worked out once per second, not once per line.
struct UTCTimestamp {
  private var millisecond = Int64.min
  private var second = Int64.min
  /// `2026-11-26T23:54:47`, for `second`.
  private var secondText = ""
  /// The whole timestamp, for `millisecond`.
  private var text = ""

  mutating func write(_ date: Date, into buffer: inout ByteBuffer) {
    let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    if milliseconds != millisecond {
      millisecond = milliseconds
      let (seconds, fraction) = Self.floorDivision(milliseconds, 1000)
      if seconds != second {
        second = seconds
        secondText = Self.text(ofSecond: seconds)
      }
      let digits = String(fraction)
      text = secondText + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
    buffer.writeString(text)
  }

  /// `YYYY-MM-DDTHH:MM:SS` for seconds since 1970 in UTC, by the proleptic Gregorian calendar
  /// (days-to-civil, after Howard Hinnant's algorithm).
  static func text(ofSecond seconds: Int64) -> String {
    let (days, secondOfDay) = floorDivision(seconds, 86_400)
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func padded(_ value: Int64, _ width: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + "T"
      + padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay / 60 % 60, 2) + ":"
      + padded(secondOfDay % 60, 2)
  }

  private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
    let remainder = value % divisor
    return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
  }
}
