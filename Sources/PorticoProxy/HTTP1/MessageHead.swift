import NIOCore
import PorticoCore

/// Where one field line's name and value lie in a head's text, as UTF-8 offsets. The value is without
/// surrounding whitespace.
struct FieldSpan {
  var nameStart: Int32
  var nameEnd: Int32
  var valueStart: Int32
  var valueEnd: Int32
  /// Just past the line's CRLF.
  var lineEnd: Int32
  var kind: KnownField
}

/// A head as received: its text byte for byte (start line, field lines and the closing empty line), and
/// where its fields lie. Names and values are read as substrings of the one text, never copied.
struct MessageHead {
  let text: String
  let fields: [FieldSpan]

  /// The text between two UTF-8 offsets, which always fall on ASCII delimiters.
  @inline(__always)
  func slice(_ start: Int32, _ end: Int32) -> Substring {
    let utf8 = text.utf8
    let lower = utf8.index(utf8.startIndex, offsetBy: Int(start))
    let upper = utf8.index(utf8.startIndex, offsetBy: Int(end))
    return Substring(text.unicodeScalars[lower..<upper])
  }

  func name(of field: FieldSpan) -> Substring { slice(field.nameStart, field.nameEnd) }
  func value(of field: FieldSpan) -> Substring { slice(field.valueStart, field.valueEnd) }

  /// Appends the text's bytes from `start` to `end` (whole field lines, CRLF included) to `buffer`.
  func copyBytes(from start: Int, to end: Int, into buffer: inout ByteBuffer) {
    let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
      buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<end]))
    }
    if copied == nil { buffer.writeSubstring(slice(Int32(start), Int32(end))) }
  }

  func firstValue(of kind: KnownField) -> Substring? {
    for field in fields where field.kind == kind { return value(of: field) }
    return nil
  }

  /// The value of the first field named `lowercasedName`, ignoring ASCII case.
  func firstValue(named lowercasedName: String) -> Substring? {
    for field in fields where isNamed(field, lowercasedName) { return value(of: field) }
    return nil
  }

  /// True when `field` is named `lowercasedName`, ignoring ASCII case.
  func isNamed(_ field: FieldSpan, _ lowercasedName: String) -> Bool {
    guard Int(field.nameEnd - field.nameStart) == lowercasedName.utf8.count else { return false }
    return name(of: field).equalsIgnoringASCIICase(lowercasedName)
  }

  /// The elements of every comma-separated list value of `kind`, trimmed, empty ones skipped.
  func listElements(of kind: KnownField) -> [Substring] {
    var elements: [Substring] = []
    for field in fields where field.kind == kind {
      for element in value(of: field).split(separator: ",") {
        let trimmed = element.trimmingSpaces
        if !trimmed.isEmpty { elements.append(trimmed) }
      }
    }
    return elements
  }
}

extension Substring {
  /// Without leading and trailing spaces and tabs.
  var trimmingSpaces: Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
    else {
      return ""
    }
    return self[first...last]
  }
}
