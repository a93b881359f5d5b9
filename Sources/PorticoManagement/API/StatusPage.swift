import Foundation

/// The plane's read-only page: every gateway (cluster, connection, the generation it runs, its last error),
/// every cluster's agent (its last report, its endpoints' health) and every resource with its verdict. Plain
/// HTML, no script.
enum StatusPage {
  static func html(
    generation: Int64, gateways: [GatewayRecord], agents: [AgentRecord],
    resources: [(StoredObject, ResourceStatus?)], now: Date = Date()
  ) -> String {
    var rows = ""
    for record in gateways {
      rows += "<tr><td>\(escape(record.identity.displayName))</td><td>\(escape(record.identity.cluster))</td>"
      rows += "<td>\(escape(record.identity.locality?.text ?? ""))</td>"
      rows +=
        "<td class=\"\(record.connected ? "ok" : "bad")\">\(record.connected ? "connected" : "disconnected")</td>"
      rows += "<td class=\"\(record.generation == generation ? "ok" : "warn")\">\(record.generation)</td>"
      rows += "<td><pre>\(escape(record.lastError ?? ""))</pre></td></tr>\n"
    }
    var agentRows = ""
    for agent in agents {
      let silent = agent.isSilent(at: now)
      let counts = agent.counts
      let ejected = agent.endpoints.filter { $0.state == .ejected }.map {
        "\($0.namespace)/\($0.name) \($0.address):\($0.port)"
      }
      agentRows += "<tr><td>\(escape(agent.cluster))</td>"
      agentRows +=
        "<td class=\"\(silent ? "bad" : "ok")\">\(silent ? "silent" : "reporting"), \(Int(now.timeIntervalSince(agent.lastReport))) s ago</td>"
      agentRows += "<td>\(counts[.healthy] ?? 0)</td>"
      agentRows += "<td class=\"\(ejected.isEmpty ? "ok" : "bad")\">\(counts[.ejected] ?? 0)</td>"
      agentRows += "<td>\(counts[.unknown] ?? 0)</td>"
      agentRows += "<td><pre>\(escape(ejected.joined(separator: "\n")))</pre></td></tr>\n"
    }
    var resourceRows = ""
    for (object, status) in resources {
      let errors = (status?.errors ?? []).map(\.description).joined(separator: "\n")
      let state = status?.state.rawValue ?? "Accepted"
      resourceRows +=
        "<tr><td>\(escape(object.id.kind.rawValue))</td><td>\(escape(object.id.cluster ?? ""))</td>"
      resourceRows += "<td>\(escape(object.id.qualifiedName))</td><td>\(object.stamp.generation)</td>"
      resourceRows += "<td class=\"\(state == "Accepted" ? "ok" : "bad")\">\(state)</td>"
      resourceRows += "<td><pre>\(escape(errors))</pre></td></tr>\n"
    }
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8"><title>Portico management plane</title>
      <style>
      body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:2em}
      th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f4f4f4}
      .ok{color:#176f2c}.bad{color:#a4161a}.warn{color:#8a5a00}pre{margin:0;white-space:pre-wrap}
      </style></head><body>
      <h1>Portico management plane</h1>
      <p>Plane generation <strong>\(generation)</strong>.</p>
      <h2>Gateways</h2>
      <table><tr><th>Gateway</th><th>Cluster</th><th>Locality</th><th>Relay</th><th>Generation</th><th>Last error</th></tr>
      \(rows)</table>
      <h2>Clusters</h2>
      <table><tr><th>Cluster</th><th>Agent</th><th>Healthy</th><th>Ejected</th><th>Unknown</th><th>Ejected endpoints</th></tr>
      \(agentRows)</table>
      <h2>Resources</h2>
      <table><tr><th>Kind</th><th>Cluster</th><th>Name</th><th>Generation</th><th>State</th><th>Errors</th></tr>
      \(resourceRows)</table>
      </body></html>

      """
  }

  static func escape(_ text: String) -> String {
    var escaped = ""
    for character in text {
      switch character {
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "&": escaped += "&amp;"
      case "\"": escaped += "&quot;"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}
