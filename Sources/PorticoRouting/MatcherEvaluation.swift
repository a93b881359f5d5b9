/// Why a matcher did not match; the first failing condition, without allocating.
public enum Mismatch: Sendable, Equatable {
  case path
  case method(expected: String)
  case header(index: Int)
  case queryParameter(index: Int)
}

extension RouteMatcher {
  /// The first condition `request` fails, or nil when the matcher matches it.
  public func firstMismatch<Request: RequestView>(_ request: Request) -> Mismatch? {
    if !path.matches(request.path) { return .path }
    for method in methods where !request.method.utf8.elementsEqual(method.utf8) {
      return .method(expected: method)
    }
    for (index, header) in headers.enumerated() where !header.matches(request) {
      return .header(index: index)
    }
    for (index, parameter) in queryParameters.enumerated() where !parameter.matches(request.query) {
      return .queryParameter(index: index)
    }
    return nil
  }

  public func describe(_ mismatch: Mismatch) -> String {
    switch mismatch {
    case .path: return "path does not match \(path.summary)"
    case .method(let expected): return "method is not \(expected)"
    case .header(let index): return "header condition not met: \(headers[index].summary)"
    case .queryParameter(let index): return "query condition not met: \(queryParameters[index].summary)"
    }
  }
}

extension PathMatcher {
  /// True when `path` starts with every piece in turn and the rest satisfies the tail.
  public func matches(_ path: Substring) -> Bool {
    let bytes = path.utf8
    var position = bytes.startIndex
    for piece in pieces {
      guard let next = Self.consume(piece, in: bytes, from: position) else { return false }
      position = next
    }
    let rest = path[position...]
    switch tail {
    case .anything: return true
    case .end: return rest.isEmpty
    case .suffix(let piece):
      return rest.hasSuffix(piece.text, ignoringASCIICase: piece.ignoresCase)
    case .regex(let compiled): return compiled.regex.matchesWhole(rest)
    }
  }

  /// The index after `piece` when `bytes` has it at `start`. A plain loop over bytes: no generic sequence
  /// adapters on the request path.
  private static func consume(
    _ piece: Piece, in bytes: Substring.UTF8View, from start: Substring.UTF8View.Index
  ) -> Substring.UTF8View.Index? {
    var position = start
    for expected in piece.text.utf8 {
      guard position != bytes.endIndex else { return nil }
      let byte = bytes[position]
      if piece.ignoresCase ? byte.asciiLowercased != expected.asciiLowercased : byte != expected {
        return nil
      }
      bytes.formIndex(after: &position)
    }
    return position
  }
}

extension HeaderCondition.Value {
  func accepts(_ value: Substring) -> Bool {
    switch self {
    case .present: return true
    case .exact(let expected): return value.utf8.elementsEqual(expected.utf8)
    case .regex(let compiled): return compiled.regex.matchesWhole(value)
    }
  }
}

extension HeaderCondition {
  /// Some value of the header satisfies the condition (or, inverted, none does).
  func matches<Request: RequestView>(_ request: Request) -> Bool {
    matches { name, accepts in request.containsHeader(name, where: accepts) }
  }

  /// The same over any message: `containsHeader(name, accepts)` says whether some value of the header
  /// named `name` (lowercased) is accepted.
  public func matches(
    containsHeader: (_ name: String, _ accepts: (Substring) -> Bool) -> Bool
  ) -> Bool {
    containsHeader(name) { value.accepts($0) } != invert
  }
}

extension QueryCondition {
  /// The first parameter named `name`, percent-decoded, satisfies the condition.
  func matches(_ query: Substring) -> Bool {
    for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
      let equals = pair.firstIndex(of: "=")
      let rawName = equals.map { pair[..<$0] } ?? pair
      guard QueryText.decode(rawName).utf8.elementsEqual(name.utf8) else { continue }
      let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? ""
      return value.accepts(QueryText.decode(rawValue))
    }
    return false
  }
}

/// Percent-decoding for query parameter names and values; malformed escapes are kept as written.
public enum QueryText {
  public static func decode(_ text: Substring) -> Substring {
    guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = Array(text.utf8)[...]
    while let byte = iterator.popFirst() {
      if byte == UInt8(ascii: "%"), iterator.count >= 2,
        let high = hexValue(iterator[iterator.startIndex]),
        let low = hexValue(iterator[iterator.startIndex + 1])
      {
        bytes.append(high << 4 | low)
        iterator = iterator.dropFirst(2)
      } else {
        bytes.append(byte)
      }
    }
    return Substring(String(decoding: bytes, as: UTF8.self))
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
