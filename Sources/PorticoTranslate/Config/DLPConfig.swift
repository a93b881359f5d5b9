import PorticoAPI

/// A route's `dlp`, resolved: the actions that mask its response bodies, in order.
public struct DLPConfig: Sendable, Encodable, Hashable {
  public struct Action: Sendable, Encodable, Hashable {
    /// `SSN`, a card brand, `ALL_CREDIT_CARDS`, `CREDIT_CARD_TRACKERS` or `CUSTOM`.
    public var type: String
    /// What metrics and logs call it: the custom action's name, or the type.
    public var name: String
    /// `CUSTOM`: RE2 patterns.
    public var patterns: [String]
    public var maskCharacter: String
    /// How much of a custom match is masked, from its start, 0–100.
    public var percent: Double
    /// Counted, not masked.
    public var shadow: Bool

    public init(
      type: String, name: String, patterns: [String], maskCharacter: String, percent: Double, shadow: Bool
    ) {
      self.type = type
      self.name = name
      self.patterns = patterns
      self.maskCharacter = maskCharacter
      self.percent = percent
      self.shadow = shadow
    }
  }

  /// Actions for the requests a matcher matches; nil matches every request.
  public struct Rule: Sendable, Encodable, Hashable {
    public var matcher: RouteMatcher?
    public var actions: [Action]

    public init(matcher: RouteMatcher? = nil, actions: [Action]) {
      self.matcher = matcher
      self.actions = actions
    }
  }

  /// Who set the option, as metrics name it.
  public var setBy: String
  /// A route's or host's actions (one rule), or a listener's rules: the first that matches applies.
  public var rules: [Rule]
  /// `enabledFor`: response bodies, access logs, or both.
  public var masksResponseBodies: Bool
  public var masksAccessLogs: Bool
  /// `unreadableBodies: PASS_UNMASKED`: a body in a coding DLP cannot read goes on unmasked (counted)
  /// instead of being refused with 502.
  public var passesUnreadableBodies: Bool

  public init(
    setBy: String, rules: [Rule], masksResponseBodies: Bool = true, masksAccessLogs: Bool = false,
    passesUnreadableBodies: Bool = false
  ) {
    self.setBy = setBy
    self.rules = rules
    self.masksResponseBodies = masksResponseBodies
    self.masksAccessLogs = masksAccessLogs
    self.passesUnreadableBodies = passesUnreadableBodies
  }
}

extension DLPConfig.Action {
  init(_ action: DLPAction) {
    let type = action.actionType ?? "CUSTOM"
    let custom = action.customAction
    self.init(
      type: type, name: custom?.name ?? type, patterns: custom?.regex ?? [],
      maskCharacter: custom?.maskChar ?? "X", percent: custom?.percentValue ?? 75,
      shadow: action.shadow ?? false)
  }
}
