/// What `portico routes` prints: for each gateway, listener and host, the flattened routes with their
/// combined matchers, actions, effective options and where each came from, and the warnings that concern them.
public struct RoutesReport: Sendable {
  public let translations: [Translation]

  public init(translations: [Translation]) { self.translations = translations }

  public var text: String {
    var out: [String] = []
    for translation in translations {
      let gateway = translation.config.gateway
      out.append("gateway \(gateway.namespace)/\(gateway.name) (cluster \(gateway.cluster))")
      if translation.config.listeners.isEmpty { out.append("  no VirtualGateway selects this gateway") }
      for listener in translation.config.listeners {
        let port = listener.port.map { ":\($0)" } ?? ""
        out.append(
          "  listener \(listener.portName)\(port) from \(listener.virtualGateways.map(\.qualifiedName).joined(separator: ", "))"
        )
        for chain in listener.serverNameChains {
          if !chain.serverNames.isEmpty {
            out.append("    server names: \(chain.serverNames.joined(separator: ", "))")
          }
          for host in chain.virtualHosts { out += hostLines(host, statuses: translation.statuses) }
        }
      }
      out.append("")
    }
    return out.joined(separator: "\n")
  }

  private func hostLines(_ host: VirtualHostConfig, statuses: [ResourceStatus]) -> [String] {
    var out = ["    host \(host.name)  domains: \(host.domains.joined(separator: ", "))"]
    var involved: [ResourceID] = [host.resource]
    for (position, route) in host.routes.enumerated() {
      out.append("      \(position). \(route.name)")
      for matcher in route.matchers { out.append("         match:   \(matcher.summary)") }
      out.append("         action:  \(Formatting.action(route.action))")
      if let replacement = route.replacement {
        for error in replacement.errors { out.append("         replaces invalid route: \(error)") }
      }
      for option in Formatting.options(route.options) {
        out.append("         option:  \(option.field) = \(option.value)  [\(option.origin)]")
      }
      if !route.labels.isEmpty {
        out.append(
          "         labels:  "
            + route.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
      }
      out.append(
        "         chain:   " + Formatting.chain(route.chain).joined(separator: "\n                  "))
      for link in route.chain where !involved.contains(link.resource) { involved.append(link.resource) }
    }
    let warnings = statuses.filter { involved.contains($0.resource) }.flatMap { $0.warnings + $0.errors }
    for warning in warnings.sortedBySource() { out.append("      \(warning.severity.rawValue): \(warning)") }
    return out
  }

  private struct JSONShape: Encodable {
    let gateways: [GatewayShape]
  }

  private struct GatewayShape: Encodable {
    let gateway: GatewayIdentity
    let listeners: [Listener]
    let upstreams: [Upstream]
    let statuses: [ResourceStatus]
  }

  public var json: String {
    Formatting.json(
      JSONShape(
        gateways: translations.map {
          GatewayShape(
            gateway: $0.config.gateway, listeners: $0.config.listeners, upstreams: $0.config.upstreams,
            statuses: $0.statuses.filter { !$0.errors.isEmpty || !$0.warnings.isEmpty })
        }))
  }
}
