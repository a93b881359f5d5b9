/// What `portico explain` prints: the host and route a request reaches, the delegation chain that produced
/// the route, each earlier route and why it did not match, and the effective options with their origin.
public struct ExplainReport: Sendable {
  public let request: PlainRequest
  public let method: String
  public let url: String
  public let listener: String?
  public let explanation: RouteExplanation?
  /// When no VirtualGateway selects the gateway: what each one selects, and the flags that would name it.
  public var selectionHints: [String] = []

  /// Explains `request` against the first listener and server-name chain of `config` that serves its host.
  public init(config: GatewayConfig, method: String, url: String, request: PlainRequest) {
    self.request = request
    self.method = method
    self.url = url
    for listener in config.listeners {
      for chain in listener.serverNameChains {
        let router = CompiledRouter(chain)
        if router.host(for: request.authority) != nil {
          self.listener = listener.portName
          self.explanation = router.explain(request)
          return
        }
      }
    }
    listener = nil
    explanation = nil
  }

  /// The status the gateway answers when nothing matches.
  public static let notFoundStatus = 404

  public var text: String {
    var out = ["request: \(method) \(url)"]
    guard let explanation, let host = explanation.host?.config else {
      out.append("host:    none serves '\(request.authority)' → 404 (no virtual host)")
      out += selectionHints.map { "note:    \($0)" }
      return out.joined(separator: "\n") + "\n"
    }
    out.append(
      "host:    \(host.name) (domains: \(host.domains.joined(separator: ", "))) on listener \(listener ?? "?")"
    )
    for candidate in explanation.candidates {
      out.append(
        "skipped: \(candidate.route.position). \(candidate.route.config.name): "
          + candidate.reasons.joined(separator: "; "))
    }
    guard let match = explanation.match else {
      out.append("route:   none matches → 404 (no route)")
      return out.joined(separator: "\n") + "\n"
    }
    let route = match.route.config
    out.append("route:   \(match.route.position). \(route.name)")
    out.append("match:   \(match.matcher.summary)")
    out.append("action:  \(Formatting.action(route.action))")
    if let replacement = route.replacement {
      for error in replacement.errors { out.append("replaces invalid route: \(error)") }
    }
    out.append("chain:   " + Formatting.chain(route.chain).joined(separator: "\n         "))
    for option in Formatting.options(route.options) {
      out.append("option:  \(option.field) = \(option.value)  [\(option.origin)]")
    }
    if let auth = route.extauth { out.append("auth:    \(Formatting.auth(auth))") }
    if let transformations = route.transformations {
      out.append("transform: \(Formatting.transformations(transformations))")
    }
    for line in RateLimitExplanation.lines(for: route, request: request) { out.append("ratelimit: \(line)") }
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
    var notes: [String]? = nil
    var rateLimit: [String]? = nil
  }

  public var json: String {
    let match = explanation?.match
    return Formatting.json(
      JSONShape(
        method: method, url: url, listener: listener, host: explanation?.host?.config.name,
        skipped: (explanation?.candidates ?? []).map {
          .init(index: $0.route.position, route: $0.route.config.name, reasons: $0.reasons)
        },
        route: match?.route.config, routeIndex: match?.route.position, matchedMatcher: match?.matcherIndex,
        status: match == nil ? Self.notFoundStatus : nil,
        notes: selectionHints.isEmpty ? nil : selectionHints,
        rateLimit: match.map { RateLimitExplanation.lines(for: $0.route.config, request: request) }
          .flatMap { $0.isEmpty ? nil : $0 }))
  }
}

extension ExplainReport {
  /// Why a gateway has no listener at all, when that is the case: no VirtualGateway selects `identity`. Says
  /// what each VirtualGateway selects, and the flags of an identity it would select.
  public static func selectionHints(
    for identity: GatewayIdentity, config: GatewayConfig, snapshot: ResourceSnapshot
  ) -> [String] {
    guard config.listeners.isEmpty else { return [] }
    let labels = identity.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    var hints = [
      "no VirtualGateway selects gateway \(identity.name) (namespace \(identity.namespace), cluster "
        + "\(identity.cluster), labels \(labels.isEmpty ? "none" : labels.joined(separator: ", ")))"
    ]
    for virtualGateway in snapshot.virtualGateways {
      for selector in virtualGateway.spec.ingressGatewaySelectors ?? [] {
        for destination in selector.destinationSelectors ?? [] {
          var parts: [String] = []
          if let refs = destination.kubeServiceRefs?.services {
            parts += refs.map {
              "gateway \($0.name) in namespace \($0.namespace ?? virtualGateway.namespace)"
                + ($0.clusterName.map { ", cluster \($0)" } ?? "")
            }
          }
          if let matcher = destination.kubeServiceMatcher {
            let wanted = (matcher.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            parts.append(
              "gateways labelled \(wanted.isEmpty ? "anything" : wanted.joined(separator: ", ")) in namespaces "
                + (matcher.namespaces ?? [virtualGateway.namespace]).joined(separator: ", ")
                + (matcher.clusters.map { ", clusters \($0.joined(separator: ", "))" } ?? ""))
          }
          hints.append(
            "VirtualGateway \(virtualGateway.id.qualifiedName) selects \(parts.joined(separator: "; ")) on port "
              + "\(selector.portName ?? "http")")
        }
      }
      let implied = GatewayIdentity.implied(by: virtualGateway)
      var flags = ["--gateway \(implied.name)", "--namespace \(implied.namespace)"]
      if implied.cluster != GatewayIdentity.defaultCluster { flags.append("--cluster \(implied.cluster)") }
      flags += implied.labels.sorted { $0.key < $1.key }.map { "--label \($0.key)=\($0.value)" }
      hints.append("try: \(flags.joined(separator: " "))")
    }
    if snapshot.virtualGateways.isEmpty { hints.append("the configuration has no VirtualGateway") }
    return hints
  }
}
