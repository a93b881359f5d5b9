/// What `portico explain` prints: the host and route a request reaches, the delegation chain that produced
/// the route, each earlier route and why it did not match, and the effective options with their origin.
public struct ExplainReport: Sendable {
  public let request: RequestHead
  public let method: String
  public let url: String
  public let listener: String?
  public let explanation: RouteExplanation?
  public let router: CompiledRouter?

  /// Explains `request` against the first listener and filter chain of `config` that serves its host.
  public init(config: GatewayConfig, method: String, url: String, request: RequestHead) {
    self.request = request
    self.method = method
    self.url = url
    for listener in config.listeners {
      for chain in listener.filterChains {
        let router = CompiledRouter(chain)
        if router.hostIndex(for: request.authority) != nil {
          self.listener = listener.portName
          self.router = router
          self.explanation = router.explain(request)
          return
        }
      }
    }
    listener = nil
    router = nil
    explanation = nil
  }

  /// The status the gateway answers when nothing matches.
  public static let notFoundStatus = 404

  public var text: String {
    var out = ["request: \(method) \(url)"]
    guard let explanation, let router, let hostIndex = explanation.hostIndex else {
      out.append("host:    none serves '\(request.authority)' → 404 (no virtual host)")
      return out.joined(separator: "\n") + "\n"
    }
    let host = router.virtualHosts[hostIndex]
    out.append("host:    \(host.name) (domains: \(host.domains.joined(separator: ", "))) on listener \(listener ?? "?")")
    for candidate in explanation.candidates {
      out.append("skipped: \(candidate.routeIndex). \(candidate.route.name): " + candidate.reasons.joined(separator: "; "))
    }
    guard let match = explanation.match else {
      out.append("route:   none matches → 404 (no route)")
      return out.joined(separator: "\n") + "\n"
    }
    out.append("route:   \(match.routeIndex). \(match.route.name)")
    out.append("match:   \(match.matcher.summary)")
    out.append("action:  \(Formatting.action(match.route.action))")
    if let replacement = match.route.replacement {
      for error in replacement.errors { out.append("replaces invalid route: \(error)") }
    }
    out.append("chain:   " + Formatting.chain(match.route.chain).joined(separator: "\n         "))
    for option in Formatting.options(match.route.options) {
      out.append("option:  \(option.field) = \(option.value)  [\(option.origin)]")
    }
    return out.joined(separator: "\n") + "\n"
  }

  private struct JSONShape: Encodable {
    struct Skipped: Encodable {
      let index: Int
      let route: String
      let reasons: [String]
    }

    let method: String
    let url: String
    let listener: String?
    let host: String?
    let skipped: [Skipped]
    let route: RouteConfig?
    let routeIndex: Int?
    let matchedMatcher: Int?
    let status: Int?
  }

  public var json: String {
    let host = explanation?.hostIndex.map { router!.virtualHosts[$0].name }
    let match = explanation?.match
    return Formatting.json(
      JSONShape(
        method: method, url: url, listener: listener, host: host,
        skipped: (explanation?.candidates ?? []).map { .init(index: $0.routeIndex, route: $0.route.name, reasons: $0.reasons) },
        route: match?.route, routeIndex: match?.routeIndex, matchedMatcher: match?.matcherIndex,
        status: match == nil ? Self.notFoundStatus : nil))
  }
}
