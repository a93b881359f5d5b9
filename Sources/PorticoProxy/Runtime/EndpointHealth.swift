import NIOCore
import PorticoTranslate

extension EndpointHealth {
  static func key(upstream: String, endpoint: Upstream.Endpoint) -> String {
    upstream + "|" + EndpointState.key(endpoint)
  }
}

extension LoopContext {
  /// This loop's outlier record for every endpoint it has sent traffic to, by upstream and endpoint.
  func outlierRecords(now: NIODeadline) -> [String: (ejected: Bool, ejections: Int)] {
    var records: [String: (ejected: Bool, ejections: Int)] = [:]
    for (id, state) in upstreamStateList {
      for endpoint in state.endpoints {
        records[EndpointHealth.key(upstream: id, endpoint: endpoint.endpoint)] = (
          !endpoint.isHealthy(now: now), endpoint.ejections
        )
      }
    }
    return records
  }
}

extension Gateway {
  /// Every endpoint of the running configuration's upstreams, with what the event loops' outlier detection
  /// says of it. An endpoint no loop has used yet is not ejected.
  public func endpointHealth() async -> [EndpointHealth] {
    guard let config = activeConfig else { return [] }
    var records: [String: (ejected: Bool, ejections: Int)] = [:]
    for context in loopContexts {
      let found = try? await context.eventLoop.submit { context.value.outlierRecords(now: .now()) }.get()
      for (key, record) in found ?? [:] {
        let known = records[key] ?? (false, 0)
        records[key] = (known.ejected || record.ejected, known.ejections + record.ejections)
      }
    }
    var health: [EndpointHealth] = []
    for id in config.upstreams.keys.sorted() {
      for endpoint in config.upstreams[id]!.endpoints {
        let record = records[EndpointHealth.key(upstream: id, endpoint: endpoint)] ?? (false, 0)
        health.append(
          EndpointHealth(
            upstream: id, address: endpoint.address, port: endpoint.port, cluster: endpoint.cluster,
            ejected: record.ejected, ejections: record.ejections))
      }
    }
    return health
  }
}
