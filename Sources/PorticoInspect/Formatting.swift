import Foundation

/// Shared text and JSON rendering for the inspection reports (and the admin endpoints).
public enum Formatting {
  /// Pretty JSON with sorted keys and a final newline: stable output for people, tools and goldens.
  public static func json<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}\n" }
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// One line of JSON for an option's value, keys sorted.
  static func compactJSON(of field: String, in policy: Policy) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(policy),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let value = object[field]
    else { return "?" }
    if let text = value as? String { return text }
    guard
      let encoded = try? JSONSerialization.data(
        withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    else { return "?" }
    return String(decoding: encoded, as: UTF8.self)
  }

  static func action(_ action: RouteActionConfig) -> String {
    switch action {
    case .forward(let forward):
      let shares = forward.destinations.map { "\($0.upstream) (weight \($0.weight))" }.joined(separator: ", ")
      return "forward to \(shares)" + (forward.pathRewrite.map { "; rewrite path to \($0)" } ?? "")
    case .redirect(let redirect):
      var parts = ["redirect \((redirect.responseCode ?? .movedPermanently).status)"]
      if let host = redirect.hostRedirect { parts.append("host \(host)") }
      if let path = redirect.pathRedirect { parts.append("path \(path)") }
      if let prefix = redirect.prefixRewrite { parts.append("prefix \(prefix)") }
      if let port = redirect.portRedirect { parts.append("port \(port)") }
      if redirect.httpsRedirect == true { parts.append("https") }
      if redirect.stripQuery == true { parts.append("strip query") }
      return parts.joined(separator: ", ")
    case .directResponse(let status, let body):
      return "respond \(status)" + (body.map { " \(quoted($0))" } ?? "")
    }
  }

  static func quoted(_ text: String) -> String {
    "\""
      + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n") + "\""
  }

  static func chain(_ links: [ChainLink]) -> [String] {
    links.map { "\($0.resource) route \($0.route) (\($0.location))" }
  }

  static func options(_ options: EffectiveOptions) -> [(field: String, value: String, origin: String)] {
    let fields = options.setFields.map { field in
      (field, compactJSON(of: field, in: options.values), options.origins[field]!.description)
    }
    let headers = options.headerManipulations.map { layer in
      var policy = Policy()
      policy.headerManipulation = layer.manipulation
      return (
        "headerManipulation", compactJSON(of: "headerManipulation", in: policy), layer.origin.description
      )
    }
    return fields + headers
  }

  /// A route's AuthConfig as `explain` shows it: its steps and what each checks, never a key or hash.
  static func auth(_ config: ExtAuthConfig) -> String {
    let steps = config.steps.map { step in
      switch step.check {
      case .apiKey(let check):
        "\(step.name) (apiKeyAuth: header \(check.headerName), \(check.keys.count) keys)"
      case .basic(let check): "\(step.name) (basicAuth: \(check.users.count) users)"
      case .jwt(let check):
        "\(step.name) (jwt: providers \(check.providers.map(\.name).joined(separator: ", ")), \(check.policy.rawValue))"
      case .passThrough(let check): "\(step.name) (passThroughAuth: \(check.endpoint))"
      case .passThroughGRPC(let check): "\(step.name) (passThroughAuth: \(check.endpoint))"
      case .accessToken(let check):
        "\(step.name) (oauth2: access tokens\(check.requiredScopes.isEmpty ? "" : " with scopes \(check.requiredScopes.joined(separator: " "))"))"
      case .oidc(let check): "\(step.name) (oauth2: \(check.issuerURL), client \(check.clientID))"
      case .opa(let check):
        "\(step.name) (opaAuth: \(check.program.query) over \(check.program.modules.map(\.name).joined(separator: ", ")))"
      case .ldap(let check):
        "\(step.name) (ldap: \(check.uri), \(check.checksGroups ? "groups \(check.allowedGroups.joined(separator: "; "))" : "any user who binds"))"
      }
    }
    let rule = config.expression.map { "passes when \($0)" } ?? "every step must pass"
    return "\(config.id): \(steps.joined(separator: ", ")); \(rule); identity in \(config.userIdHeader)"
  }

  /// A route's transformations, entry by entry: `request: xslt from JSON (before auth) if 1 matcher, xslt;
  /// response: xslt`.
  static func transformations(_ config: TransformationConfig) -> String {
    func describe(_ transform: TransformationConfig.Transform) -> String {
      switch transform {
      case .xslt(let xslt):
        "xslt" + (xslt.nonXmlTransform ? " from JSON" : "")
          + (xslt.setContentType.map { " to \($0)" } ?? "")
      }
    }
    func condition(_ count: Int) -> String {
      count == 0 ? "" : " if \(count) matcher\(count == 1 ? "" : "s")"
    }
    let request = config.request.map { entry in
      describe(entry.transformation) + (entry.applyBeforeAuth ? " (before auth)" : "")
        + condition(entry.matchers.count)
    }
    let response = config.response.map { describe($0.transformation) + condition($0.matchers.count) }
    var parts: [String] = []
    if !request.isEmpty { parts.append("request: " + request.joined(separator: ", then ")) }
    if !response.isEmpty { parts.append("response: " + response.joined(separator: ", then ")) }
    return parts.joined(separator: "; ") + " (the first entry that matches applies)"
  }
}
