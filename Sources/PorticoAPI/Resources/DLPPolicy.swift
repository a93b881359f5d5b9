/// `dlp` (data loss prevention, Gloo Edge's `dlp.options.gloo.solo.io`): values such as card numbers and
/// social security numbers masked in response bodies. On a route or virtual host, `actions`; on a
/// VirtualGateway's listener (`routeOptions.dlp`), `dlpRules` chosen by matcher. A route's or host's
/// `dlp` replaces the listener's rules.
public struct DLPPolicy: Codable, Hashable, Sendable {
  public var actions: [DLPAction]?
  public var dlpRules: [DLPRule]?
  /// `RESPONSE_BODY` (the default), `ACCESS_LOGS` or `ALL`.
  public var enabledFor: String?
  /// A response body in a coding DLP cannot read (not gzip or deflate): `REFUSE` it with 502 (the
  /// default), or `PASS_UNMASKED`, counted. Portico's own field: Gloo's DLP has no such choice.
  public var unreadableBodies: String?

  public init(actions: [DLPAction]? = nil, dlpRules: [DLPRule]? = nil, enabledFor: String? = nil) {
    self.actions = actions
    self.dlpRules = dlpRules
    self.enabledFor = enabledFor
  }

  public static let targets = ["RESPONSE_BODY", "ACCESS_LOGS", "ALL"]
  public static let unreadableModes = ["REFUSE", "PASS_UNMASKED"]
}

/// A listener's rule: the actions for requests its matcher matches (every request without one).
public struct DLPRule: Codable, Hashable, Sendable {
  public var matcher: HTTPMatcher?
  public var actions: [DLPAction]?
}

public struct DLPAction: Codable, Hashable, Sendable {
  /// One of `types`; `CUSTOM` with `customAction`.
  public var actionType: String?
  public var customAction: CustomAction?
  /// Count and log what would be masked, mask nothing.
  public var shadow: Bool?

  public init(actionType: String? = nil, customAction: CustomAction? = nil, shadow: Bool? = nil) {
    self.actionType = actionType
    self.customAction = customAction
    self.shadow = shadow
  }

  public static let types = [
    "CUSTOM", "SSN", "MASTERCARD", "VISA", "AMEX", "DISCOVER", "JCB", "DINERS_CLUB", "CREDIT_CARD_TRACKERS",
    "ALL_CREDIT_CARDS",
  ]

  public struct CustomAction: Codable, Hashable, Sendable {
    public var name: String?
    /// RE2 patterns; each match is masked.
    public var regex: [String]?
    /// One character; `X` by default.
    public var maskChar: String?
    /// How much of each match is masked, from its start: a number, or Gloo's `{value: N}`; 75 by default.
    public var percent: OpaqueValue?

    public init(
      name: String? = nil, regex: [String]? = nil, maskChar: String? = nil, percent: OpaqueValue? = nil
    ) {
      self.name = name
      self.regex = regex
      self.maskChar = maskChar
      self.percent = percent
    }

    /// `percent` as a number, when it is one (or `{value: N}`).
    public var percentValue: Double? {
      switch percent {
      case .none: 75
      case .number(let value)?: value
      case .object(let fields)?: if case .number(let value)? = fields["value"] { value } else { nil }
      default: nil
      }
    }
  }
}
