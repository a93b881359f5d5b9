/// ASCII-only case folding: HTTP hosts, header names and `ignoreCase` path matching are ASCII
/// case-insensitive, and folding bytes avoids Unicode work on the request path.
extension UInt8 {
  @inlinable
  public var asciiLowercased: UInt8 { (self &- 0x41) < 26 ? self | 0x20 : self }

  /// `0` to `9`.
  @inlinable
  public var isASCIIDigit: Bool { self &- UInt8(ascii: "0") < 10 }

  /// The lowercase hexadecimal digit for a value below 16: chunk sizes, JSON escapes, request IDs.
  @inlinable
  public static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? value &+ 0x30 : value &+ 0x57 }
}

// These are inlinable so that callers in other modules get versions specialized for their string types,
// without generic dispatch on the request path.
extension StringProtocol {
  /// The string with ASCII letters lowercased; other characters are kept as they are.
  @inlinable
  public var asciiLowercased: String {
    String(decoding: utf8.map(\.asciiLowercased), as: UTF8.self)
  }

  /// Compares with `other` ignoring ASCII case.
  @inlinable
  public func equalsIgnoringASCIICase<T: StringProtocol>(_ other: T) -> Bool {
    utf8.count == other.utf8.count && bytes(other, startAt: utf8.startIndex, ignoringASCIICase: true)
  }

  @inlinable
  public func hasPrefix<T: StringProtocol>(_ prefix: T, ignoringASCIICase: Bool) -> Bool {
    utf8.count >= prefix.utf8.count
      && bytes(prefix, startAt: utf8.startIndex, ignoringASCIICase: ignoringASCIICase)
  }

  @inlinable
  public func hasSuffix<T: StringProtocol>(_ suffix: T, ignoringASCIICase: Bool) -> Bool {
    let count = suffix.utf8.count
    guard utf8.count >= count else { return false }
    return bytes(
      suffix, startAt: utf8.index(utf8.endIndex, offsetBy: -count), ignoringASCIICase: ignoringASCIICase)
  }

  /// True when the bytes from `start` on equal those of `other` (which must fit). Native strings and their
  /// substrings are compared in place, as two runs of bytes; others byte by byte through their views.
  @inlinable
  func bytes<T: StringProtocol>(_ other: T, startAt start: UTF8View.Index, ignoringASCIICase: Bool) -> Bool {
    let lhs = utf8
    let compared = lhs.withContiguousStorageIfAvailable { lhsBytes in
      other.utf8.withContiguousStorageIfAvailable { rhsBytes in
        let offset = lhs.distance(from: lhs.startIndex, to: start)
        return UInt8.equal(
          UnsafeBufferPointer(rebasing: lhsBytes[offset..<offset + rhsBytes.count]), rhsBytes,
          ignoringASCIICase: ignoringASCIICase)
      }
    }
    if let compared, let compared { return compared }
    var position = start
    for byte in other.utf8 {
      let candidate = lhs[position]
      if ignoringASCIICase ? candidate.asciiLowercased != byte.asciiLowercased : candidate != byte {
        return false
      }
      lhs.formIndex(after: &position)
    }
    return true
  }
}

extension UInt8 {
  /// Two runs of bytes of the same length compared, ASCII letters folded when asked.
  @inlinable
  static func equal(
    _ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>, ignoringASCIICase: Bool
  ) -> Bool {
    guard ignoringASCIICase else { return lhs.elementsEqual(rhs) }
    for index in 0..<rhs.count where lhs[index].asciiLowercased != rhs[index].asciiLowercased {
      return false
    }
    return true
  }
}
