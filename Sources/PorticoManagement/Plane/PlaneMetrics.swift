import Foundation
import Prometheus

/// The plane's metrics: gateways connected, what it ships, how long a change takes to be acknowledged, how
/// often gateways refuse one, and the endpoints each cluster's agent reports healthy or ejected.
public final class PlaneMetrics: Sendable {
  let registry = PrometheusCollectorRegistry()
  let snapshotsSent: Counter
  let snapshotRefusals: Counter
  let snapshotBytes: Counter
  let manifestsSent: Counter
  /// From a write to the gateway's acknowledgement of the generation that carries it.
  let pushLatency: DurationHistogram
  private let connected: Gauge
  private let known: Gauge
  private let resources: Gauge
  private let silentAgents: Gauge

  public init() {
    snapshotsSent = registry.makeCounter(name: "portico_mgmt_snapshots_sent_total")
    snapshotRefusals = registry.makeCounter(name: "portico_mgmt_snapshot_refusals_total")
    manifestsSent = registry.makeCounter(name: "portico_mgmt_manifests_sent_total")
    snapshotBytes = registry.makeCounter(name: "portico_mgmt_snapshot_bytes_total")
    pushLatency = registry.makeDurationHistogram(
      name: "portico_mgmt_push_latency_seconds",
      buckets: [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
      ])
    connected = registry.makeGauge(name: "portico_mgmt_gateways_connected")
    known = registry.makeGauge(name: "portico_mgmt_gateways_known")
    resources = registry.makeGauge(name: "portico_mgmt_resources")
    silentAgents = registry.makeGauge(name: "portico_mgmt_agents_silent")
  }

  /// The text exposition, with the gauges read from the plane now.
  func exposition(_ plane: ManagementPlane) async -> String {
    let records = await plane.gatewayRecords
    connected.set(Double(records.filter(\.connected).count))
    known.set(Double(records.count))
    resources.set(Double(await plane.allObjects.count))
    let agents = await plane.agentRecords
    silentAgents.set(Double(agents.filter { $0.isSilent() }.count))
    for agent in agents {
      for (state, count) in agent.counts {
        registry.makeGauge(
          name: "portico_mgmt_endpoints", labels: [("cluster", agent.cluster), ("state", state.rawValue)]
        ).set(Double(count))
      }
    }
    var buffer: [UInt8] = []
    registry.emit(into: &buffer)
    return String(decoding: buffer, as: UTF8.self)
  }
}
