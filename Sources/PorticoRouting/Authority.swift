/// Parts of a Host header or `:authority`.
public enum Authority {
  /// The authority without its port; IPv6 literals keep their brackets.
  public static func host(of authority: Substring) -> Substring {
    let bytes = authority.utf8
    if bytes.first == UInt8(ascii: "[") {
      guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return authority }
      return authority[...close]
    }
    guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return authority }
    return authority[..<colon]
  }
}
