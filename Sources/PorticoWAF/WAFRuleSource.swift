/// One piece of a WAF rule set, in load order: rules written inline, or a file of rules.
public struct WAFRuleSource: Hashable, Sendable {
  public enum Content: Hashable, Sendable {
    /// Rules as text; `origin` says where they were written (a manifest's file and line) for errors.
    case text(String, origin: String)
    /// A file of rules (it may `Include` others); errors name it and its line.
    case file(String)
  }

  public var content: Content

  public init(_ content: Content) { self.content = content }

  public static func text(_ text: String, origin: String) -> WAFRuleSource {
    .init(.text(text, origin: origin))
  }
  public static func file(_ path: String) -> WAFRuleSource { .init(.file(path)) }
}

/// A rule set that does not compile: where (a file and line, or the origin of inline rules and the line
/// within them) and ModSecurity's reason.
public struct WAFRuleError: Error, Hashable, Sendable, CustomStringConvertible {
  /// A rule file's path, or the origin of inline rules.
  public let file: String
  /// The line in `file`, or within the inline rules; nil when ModSecurity names none.
  public let line: Int?
  public let reason: String

  public var description: String {
    if let line { return "\(file): line \(line): \(reason)" }
    return "\(file): \(reason)"
  }
}
