import PorticoAPI

/// `dlp` resolved: a route's or host's `actions`, or a listener's `dlpRules` with their matchers compiled
/// (written as a route's own matcher: no `uri` means every path), and where masking applies.
extension GatewayTranslator {
  mutating func resolveDLP(_ options: EffectiveOptions) -> DLPConfig? {
    guard let dlp = options.values.dlp, let origin = options.origins["dlp"] else { return nil }
    var rules: [DLPConfig.Rule] = []
    if let actions = dlp.actions, !actions.isEmpty {
      rules.append(DLPConfig.Rule(actions: actions.map(DLPConfig.Action.init)))
    }
    for rule in dlp.dlpRules ?? [] {
      let actions = (rule.actions ?? []).map(DLPConfig.Action.init)
      guard !actions.isEmpty else { continue }
      rules.append(DLPConfig.Rule(matcher: rule.matcher.map { joiner.standalone($0) }, actions: actions))
    }
    guard !rules.isEmpty else { return nil }
    let target = dlp.enabledFor ?? "RESPONSE_BODY"
    return DLPConfig(
      setBy: origin.owner, rules: rules,
      masksResponseBodies: target != "ACCESS_LOGS", masksAccessLogs: target != "RESPONSE_BODY",
      passesUnreadableBodies: dlp.unreadableBodies == "PASS_UNMASKED")
  }
}
