import CRE2

/// A regular expression compiled by RE2: matching time is linear in the input, whatever the pattern.
///
/// Patterns RE2 rejects (backreferences, lookaround) fail to compile; there is no backtracking fallback.
public final class RE2Regex: @unchecked Sendable {
  // RE2 objects are immutable after construction and safe to share across threads.
  private let handle: OpaquePointer
  public let pattern: String
  public let ignoresCase: Bool

  public struct CompileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let pattern: String
    public let reason: String
    public var description: String { "invalid regex '\(pattern)': \(reason)" }
  }

  public init(_ pattern: String, ignoringCase: Bool = false) throws(CompileError) {
    var errorPointer: UnsafeMutablePointer<CChar>? = nil
    var utf8 = pattern.utf8CString
    let compiled = utf8.withUnsafeMutableBufferPointer { buffer in
      portico_re2_compile(buffer.baseAddress, buffer.count - 1, ignoringCase, &errorPointer)
    }
    guard let compiled else {
      var reason = "rejected by RE2"
      if let errorPointer {
        reason = String(cString: errorPointer)
        portico_re2_free_error(errorPointer)
      }
      throw CompileError(pattern: pattern, reason: reason)
    }
    self.handle = compiled
    self.pattern = pattern
    self.ignoresCase = ignoringCase
  }

  deinit { portico_re2_free(handle) }

  /// True when the whole of `text` matches the pattern.
  public func matchesWhole<S: StringProtocol>(_ text: S) -> Bool {
    if let result = text.utf8.withContiguousStorageIfAvailable({ bytes in
      bytes.withMemoryRebound(to: CChar.self) { portico_re2_full_match(handle, $0.baseAddress, $0.count) }
    }) {
      return result
    }
    var copy = String(text)
    return copy.withUTF8 { bytes in
      bytes.withMemoryRebound(to: CChar.self) { portico_re2_full_match(handle, $0.baseAddress, $0.count) }
    }
  }

  /// The byte range of the first match in `bytes` that starts at or after `start`.
  public func firstMatch(in bytes: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
    guard let base = bytes.baseAddress, start <= bytes.count else { return nil }
    var lower = 0
    var upper = 0
    let found = portico_re2_find(
      handle, base.assumingMemoryBound(to: CChar.self), bytes.count, start, &lower, &upper)
    return found ? lower..<upper : nil
  }

  /// The number of capturing groups in the pattern.
  public var groupCount: Int { Int(portico_re2_group_count(handle)) }

  /// When the whole of `bytes` matches: the byte range of capturing group `group` (0: all of it), or nil
  /// inside when that group took no part in the match. Nil when `bytes` does not match (or there is no
  /// such group).
  public func wholeMatch(of bytes: UnsafeRawBufferPointer, group: Int) -> Range<Int>?? {
    var lower = 0
    var upper = 0
    let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
    guard portico_re2_full_match_group(handle, base, bytes.count, Int32(group), &lower, &upper) else {
      return nil
    }
    // size_t's SIZE_MAX, read as Int: the group took no part.
    return .some(lower == -1 ? nil : lower..<upper)
  }

  /// `text` with every regex metacharacter escaped, so that it matches itself literally.
  public static func escape(_ text: String) -> String {
    var copy = text
    return copy.withUTF8 { bytes in
      bytes.withMemoryRebound(to: CChar.self) { chars in
        guard let quoted = portico_re2_quote(chars.baseAddress, chars.count) else { return text }
        defer { portico_re2_free_error(quoted) }
        return String(cString: quoted)
      }
    }
  }
}
