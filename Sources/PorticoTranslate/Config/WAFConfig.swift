import PorticoWAF

/// A route's `waf`, resolved: the ModSecurity rules it runs, in load order (already checked to compile), and
/// how much of each message they see.
public struct WAFConfig: Sendable, Encodable, Hashable {
  /// Who set the option (`VirtualHost ns/name`, a route of it...): what `explain` and the metrics name.
  public var setBy: String
  public var sources: [WAFRuleSource]
  /// The answer's body when a rule blocks; ModSecurity's own message when unset.
  public var interventionMessage: String?
  public var inspectsRequestBody: Bool
  public var inspectsResponseBody: Bool
  /// `NEVER`, `RELEVANT_ONLY` or `ALWAYS`.
  public var auditAction: String
  /// Whether the Core Rule Set is among the sources.
  public var coreRuleSet: Bool

  enum CodingKeys: String, CodingKey {
    case setBy, interventionMessage, inspectsRequestBody, inspectsResponseBody, auditAction, coreRuleSet,
      ruleFiles
  }

  /// What `explain` shows: the options, and the rule files in order (inline rules as their origin).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(setBy, forKey: .setBy)
    try container.encodeIfPresent(interventionMessage, forKey: .interventionMessage)
    try container.encode(inspectsRequestBody, forKey: .inspectsRequestBody)
    try container.encode(inspectsResponseBody, forKey: .inspectsResponseBody)
    try container.encode(auditAction, forKey: .auditAction)
    try container.encode(coreRuleSet, forKey: .coreRuleSet)
    let files = sources.map { source -> String in
      switch source.content {
      case .file(let path): path
      case .text(_, let origin): origin
      }
    }
    try container.encode(files, forKey: .ruleFiles)
  }
}
