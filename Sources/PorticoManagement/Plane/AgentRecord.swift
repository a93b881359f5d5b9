import Foundation

/// What the plane knows of a cluster's agent: when it last reported, how often it reports when nothing
/// changes, and each reported endpoint's health as the cluster's gateway sees it.
public struct AgentRecord: Sendable, Codable, Equatable {
  public struct Endpoint: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
      case healthy, ejected
      /// The gateway sends the endpoint no traffic, or the agent does not read a gateway.
      case unknown
    }

    public var namespace: String
    public var name: String
    public var address: String
    public var port: Int
    public var state: State
    public var ejections: Int
  }

  public var cluster: String
  public var lastReport: Date
  public var refreshSeconds: Int
  public var endpoints: [Endpoint]

  /// Silent: three refresh intervals without a report. Its cluster's registry stays as last reported.
  public func isSilent(at now: Date = Date()) -> Bool {
    now.timeIntervalSince(lastReport) > Double(max(refreshSeconds, 1) * 3)
  }

  /// Endpoints per state.
  public var counts: [Endpoint.State: Int] {
    var counts: [Endpoint.State: Int] = [.healthy: 0, .ejected: 0, .unknown: 0]
    for endpoint in endpoints { counts[endpoint.state, default: 0] += 1 }
    return counts
  }
}

extension AgentRecord.Endpoint {
  init(_ message: Portico_Relay_V1_EndpointHealth) {
    let state: State =
      switch message.state {
      case .healthy: .healthy
      case .ejected: .ejected
      default: .unknown
      }
    self.init(
      namespace: message.namespace, name: message.name, address: message.address, port: Int(message.port),
      state: state, ejections: Int(message.ejections))
  }
}
