/// What every event loop shares: metrics, the access log and protocol limits. All thread-safe.
final class GatewayServices: Sendable {
  let metrics: GatewayMetrics
  let accessLog: AccessLog
  let limits: HTTP1Limits

  init(metrics: GatewayMetrics, accessLog: AccessLog, limits: HTTP1Limits) {
    self.metrics = metrics
    self.accessLog = accessLog
    self.limits = limits
  }
}
