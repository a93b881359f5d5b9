import CoreMetrics
import Foundation
import Prometheus

/// The gateway's metrics, kept in its own Prometheus registry (several gateways can share a process), and
/// the per-request series, which each event loop counts in cells of its own (`RequestMetrics`).
public final class GatewayMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  let requests = RequestMetrics()
  let factory: PrometheusMetricsFactory
  let upstreamConnectErrors: CoreMetrics.Counter
  let upstreamTimeouts: CoreMetrics.Counter
  let protocolErrors: CoreMetrics.Counter
  let headerTimeouts: CoreMetrics.Counter
  let refusedConnections: CoreMetrics.Counter
  let ejections: CoreMetrics.Counter
  let activeConnections: CoreMetrics.Meter
  let configGeneration: CoreMetrics.Meter
  let reloadSuccesses: CoreMetrics.Counter
  let reloadFailures: CoreMetrics.Counter
  let retries: CoreMetrics.Counter
  let retriesOverBudget: CoreMetrics.Counter
  let csrfRefused: CoreMetrics.Counter
  let csrfShadowed: CoreMetrics.Counter
  let accessLogLinesDropped: CoreMetrics.Counter
  /// Requests answered 500 because a filter failed (threw) on them.
  let filterErrors: CoreMetrics.Counter
  /// Requests the rate-limit counter store could not count.
  let rateLimitStoreErrors: CoreMetrics.Counter
  /// Bodies a filter needed whole that outgrew the route's bound: requests answered 413, responses 502.
  let requestBodiesTooLarge: CoreMetrics.Counter
  let responseBodiesTooLarge: CoreMetrics.Counter

  public init() {
    factory = PrometheusMetricsFactory(registry: registry)
    upstreamConnectErrors = CoreMetrics.Counter(
      label: "portico_upstream_connect_errors_total", factory: factory)
    upstreamTimeouts = CoreMetrics.Counter(label: "portico_upstream_timeouts_total", factory: factory)
    protocolErrors = CoreMetrics.Counter(label: "portico_downstream_protocol_errors_total", factory: factory)
    headerTimeouts = CoreMetrics.Counter(label: "portico_downstream_header_timeouts_total", factory: factory)
    refusedConnections = CoreMetrics.Counter(
      label: "portico_downstream_connections_refused_total", factory: factory)
    ejections = CoreMetrics.Counter(label: "portico_outlier_ejections_total", factory: factory)
    activeConnections = CoreMetrics.Meter(label: "portico_downstream_connections_active", factory: factory)
    configGeneration = CoreMetrics.Meter(label: "portico_config_generation", factory: factory)
    reloadSuccesses = CoreMetrics.Counter(
      label: "portico_config_reloads_total", dimensions: [("result", "success")], factory: factory)
    reloadFailures = CoreMetrics.Counter(
      label: "portico_config_reloads_total", dimensions: [("result", "failure")], factory: factory)
    retries = CoreMetrics.Counter(label: "portico_upstream_retries_total", factory: factory)
    retriesOverBudget = CoreMetrics.Counter(
      label: "portico_upstream_retries_over_budget_total", factory: factory)
    csrfRefused = CoreMetrics.Counter(
      label: "portico_csrf_foreign_origin_total", dimensions: [("mode", "enforced")], factory: factory)
    csrfShadowed = CoreMetrics.Counter(
      label: "portico_csrf_foreign_origin_total", dimensions: [("mode", "shadow")], factory: factory)
    accessLogLinesDropped = CoreMetrics.Counter(
      label: "portico_access_log_lines_dropped_total", factory: factory)
    filterErrors = CoreMetrics.Counter(label: "portico_filter_errors_total", factory: factory)
    rateLimitStoreErrors = CoreMetrics.Counter(
      label: "portico_ratelimit_store_errors_total", factory: factory)
    requestBodiesTooLarge = CoreMetrics.Counter(
      label: "portico_filter_bodies_too_large_total", dimensions: [("direction", "request")], factory: factory
    )
    responseBodiesTooLarge = CoreMetrics.Counter(
      label: "portico_filter_bodies_too_large_total", dimensions: [("direction", "response")],
      factory: factory)
  }

  /// The Prometheus text exposition of every series.
  public func exposition() -> String { registry.emitToString() + requests.exposition() }
}
