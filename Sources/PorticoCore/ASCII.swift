/// ASCII-only case folding: HTTP hosts, header names and `ignoreCase` path matching are ASCII
/// case-insensitive, and folding bytes avoids Unicode work on the request path.
extension UInt8 {
  @inline(__always)
  public var asciiLowercased: UInt8 { (self &- 0x41) < 26 ? self | 0x20 : self }
}

extension StringProtocol {
  /// The string with ASCII letters lowercased; other characters are kept as they are.
  public var asciiLowercased: String {
    String(decoding: utf8.map(\.asciiLowercased), as: UTF8.self)
  }

  /// Compares with `other` ignoring ASCII case.
  public func equalsIgnoringASCIICase<T: StringProtocol>(_ other: T) -> Bool {
    let lhs = utf8
    let rhs = other.utf8
    guard lhs.count == rhs.count else { return false }
    return zip(lhs, rhs).allSatisfy { $0.asciiLowercased == $1.asciiLowercased }
  }

  public func hasPrefix<T: StringProtocol>(_ prefix: T, ignoringASCIICase: Bool) -> Bool {
    let lhs = utf8
    let rhs = prefix.utf8
    guard lhs.count >= rhs.count else { return false }
    if !ignoringASCIICase { return lhs.starts(with: rhs) }
    return zip(lhs, rhs).allSatisfy { $0.asciiLowercased == $1.asciiLowercased }
  }

  public func hasSuffix<T: StringProtocol>(_ suffix: T, ignoringASCIICase: Bool) -> Bool {
    let lhs = utf8
    let rhs = suffix.utf8
    guard lhs.count >= rhs.count else { return false }
    let tail = lhs.suffix(rhs.count)
    if !ignoringASCIICase { return tail.elementsEqual(rhs) }
    return zip(tail, rhs).allSatisfy { $0.asciiLowercased == $1.asciiLowercased }
  }
}
