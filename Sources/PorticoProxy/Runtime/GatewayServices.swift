import Logging

/// What every event loop shares: metrics, the access log and the logger. All thread-safe.
final class GatewayServices: Sendable {
  let metrics: GatewayMetrics
  let accessLog: AccessLog
  let logger: Logger

  init(metrics: GatewayMetrics, accessLog: AccessLog, logger: Logger) {
    self.metrics = metrics
    self.accessLog = accessLog
    self.logger = logger
  }
}
