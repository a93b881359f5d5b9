/// ASCII-only case folding: HTTP hosts, header names and `ignoreCase` path matching are ASCII
/// case-insensitive, and folding bytes avoids Unicode work on the request path.
extension UInt8 {
  @inlinable
  public var asciiLowercased: UInt8 { (self &- 0x41) < 26 ? self | 0x20 : self }
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
    let lhs = utf8
    let rhs = other.utf8
    guard lhs.count == rhs.count else { return false }
    var left = lhs.startIndex
    for byte in rhs {
      if lhs[left].asciiLowercased != byte.asciiLowercased { return false }
      lhs.formIndex(after: &left)
    }
    return true
  }

  @inlinable
  public func hasPrefix<T: StringProtocol>(_ prefix: T, ignoringASCIICase: Bool) -> Bool {
    let lhs = utf8
    let rhs = prefix.utf8
    guard lhs.count >= rhs.count else { return false }
    var left = lhs.startIndex
    for byte in rhs {
      let candidate = lhs[left]
      if ignoringASCIICase ? candidate.asciiLowercased != byte.asciiLowercased : candidate != byte {
        return false
      }
      lhs.formIndex(after: &left)
    }
    return true
  }

  @inlinable
  public func hasSuffix<T: StringProtocol>(_ suffix: T, ignoringASCIICase: Bool) -> Bool {
    let lhs = utf8
    let rhs = suffix.utf8
    guard lhs.count >= rhs.count else { return false }
    var left = lhs.index(lhs.endIndex, offsetBy: -rhs.count)
    for byte in rhs {
      let candidate = lhs[left]
      if ignoringASCIICase ? candidate.asciiLowercased != byte.asciiLowercased : candidate != byte {
        return false
      }
      lhs.formIndex(after: &left)
    }
    return true
  }
}
