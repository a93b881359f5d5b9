/// `options.waf` (Gloo Edge's `waf.options.gloo.solo.io`): ModSecurity rules, the OWASP Core Rule Set,
/// or both, run on a route's requests and responses. Inherited whole like every option; a child turns an
/// inherited WAF off with `disabled: true`.
public struct WAFPolicy: Codable, Hashable, Sendable {
  public var disabled: Bool?
  /// The body of the answer when a rule blocks a request (ModSecurity's status, 403 by default).
  public var customInterventionMessage: String?
  /// Present: the Core Rule Set is on, tuned by its settings.
  public var coreRuleSet: CoreRuleSet?
  /// ModSecurity rules, after the Core Rule Set, in order.
  public var ruleSets: [WAFRuleSet]?
  public var auditLogging: WAFAuditLogging?
  /// Inspect request headers only: the request body is neither kept nor read by the rules.
  public var requestHeadersOnly: Bool?
  /// Inspect response headers only.
  public var responseHeadersOnly: Bool?

  public init() {}

  /// The Core Rule Set's settings, in place of its `crs-setup.conf`: `SecDefaultAction` lines, paranoia
  /// level, anomaly thresholds, allowed methods and the like. Without either, the CRS's own setup file.
  public struct CoreRuleSet: Codable, Hashable, Sendable {
    public var customSettingsString: String?
    public var customSettingsFile: String?

    public init(customSettingsString: String? = nil, customSettingsFile: String? = nil) {
      self.customSettingsString = customSettingsString
      self.customSettingsFile = customSettingsFile
    }
  }
}

/// Rules as text (`ruleStr`), files of rules, and every `.conf` file of a directory, in that order.
public struct WAFRuleSet: Codable, Hashable, Sendable {
  public var ruleStr: String?
  public var files: [String]?
  public var directory: String?

  public init(ruleStr: String? = nil, files: [String]? = nil, directory: String? = nil) {
    self.ruleStr = ruleStr
    self.files = files
    self.directory = directory
  }
}

/// Which transactions go to the audit log: `NEVER` (the default), `RELEVANT_ONLY` (those a rule flagged),
/// `ALWAYS`.
public struct WAFAuditLogging: Codable, Hashable, Sendable {
  public var action: String?
  /// Gloo's place for the entry in Envoy's metadata; Portico writes entries to its audit log file instead.
  public var location: String?

  public static let actions = ["NEVER", "RELEVANT_ONLY", "ALWAYS"]
}
