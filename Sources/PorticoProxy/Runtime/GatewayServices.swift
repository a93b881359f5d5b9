/// What every event loop shares: metrics and the access log. Both thread-safe.
final class GatewayServices: Sendable {
  let metrics: GatewayMetrics
  let accessLog: AccessLog

  init(metrics: GatewayMetrics, accessLog: AccessLog) {
    self.metrics = metrics
    self.accessLog = accessLog
  }
}
