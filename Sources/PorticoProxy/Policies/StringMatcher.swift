import PorticoAPI
import PorticoCore

/// A `StringMatch` compiled for the data plane: exact, prefix or suffix (optionally ignoring ASCII
/// case), or an RE2 regex that must match the whole value.
enum StringMatcher: Sendable {
  case exact(String, ignoresCase: Bool)
  case prefix(String, ignoresCase: Bool)
  case suffix(String, ignoresCase: Bool)
  case regex(RE2Regex)
  /// A regex that does not compile (validation has reported it): matches nothing.
  case never

  init(_ match: StringMatch) {
    let ignoresCase = match.ignoreCase ?? false
    if let exact = match.exact {
      self = .exact(ignoresCase ? exact.lowercased() : exact, ignoresCase: ignoresCase)
    } else if let prefix = match.prefix {
      self = .prefix(ignoresCase ? prefix.lowercased() : prefix, ignoresCase: ignoresCase)
    } else if let suffix = match.suffix {
      self = .suffix(ignoresCase ? suffix.lowercased() : suffix, ignoresCase: ignoresCase)
    } else if let pattern = match.regex, let regex = try? RE2Regex(pattern) {
      self = .regex(regex)
    } else {
      self = .never
    }
  }

  func matches(_ value: Substring) -> Bool {
    switch self {
    case .exact(let text, let ignoresCase):
      return ignoresCase ? value.equalsIgnoringASCIICase(text) : value == text
    case .prefix(let text, let ignoresCase):
      return (ignoresCase ? value.lowercased()[...] : value).hasPrefix(text)
    case .suffix(let text, let ignoresCase):
      return (ignoresCase ? value.lowercased()[...] : value).hasSuffix(text)
    case .regex(let regex):
      return regex.matchesWhole(value)
    case .never:
      return false
    }
  }
}
