import Foundation
import NIOCore

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
      text = secondText + "." + fraction.zeroPadded(toWidth: 3) + "Z"
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
    return year.zeroPadded(toWidth: 4) + "-" + month.zeroPadded(toWidth: 2) + "-"
      + day.zeroPadded(toWidth: 2) + "T" + (secondOfDay / 3600).zeroPadded(toWidth: 2) + ":"
      + (secondOfDay / 60 % 60).zeroPadded(toWidth: 2) + ":" + (secondOfDay % 60).zeroPadded(toWidth: 2)
  }

  private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
    let remainder = value % divisor
    return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
  }
}

extension Int64 {
  /// In decimal, with zeros in front up to `width` digits: `007`.
  func zeroPadded(toWidth width: Int) -> String {
    let digits = String(self)
    return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
  }
}
