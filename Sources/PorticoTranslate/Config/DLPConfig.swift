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

  /// Who set the option, as metrics name it.
  public var setBy: String
  public var actions: [Action]

  public init(setBy: String, actions: [Action]) {
    self.setBy = setBy
    self.actions = actions
  }
}

extension DLPConfig {
  /// The effective `dlp` of a route, when it masks response bodies.
  init?(_ options: EffectiveOptions) {
    guard let dlp = options.values.dlp, let origin = options.origins["dlp"], let actions = dlp.actions,
      !actions.isEmpty, (dlp.enabledFor ?? "RESPONSE_BODY") == "RESPONSE_BODY"
    else { return nil }
    setBy = origin.route.map { "\(origin.resource) route \($0)" } ?? "\(origin.resource)"
    self.actions = actions.map { action in
      let type = action.actionType ?? "CUSTOM"
      let custom = action.customAction
      return Action(
        type: type, name: custom?.name ?? type, patterns: custom?.regex ?? [],
        maskCharacter: custom?.maskChar ?? "X", percent: custom?.percentValue ?? 75,
        shadow: action.shadow ?? false)
    }
  }
}
