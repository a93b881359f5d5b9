import PorticoRateLimit
import PorticoRedis
import Synchronization

/// What every event loop shares: metrics, the access log, protocol limits and the connection count. All
/// thread-safe.
final class GatewayServices: Sendable {
  let metrics: GatewayMetrics
  let accessLog: AccessLog
  let limits: HTTP1Limits
  let maxConnections: Int
  /// Rate-limit counters in the gateway, shared by every event loop.
  let rateLimitCounters: LocalCounterStore
  /// Set when the counters are in Redis instead, shared by every gateway.
  let rateLimitStore: RedisStoreConfiguration?
  /// `X-Forwarded-For` entries to trust, from the right (0: the TCP peer is the client).
  let trustedProxyHops: Int
  /// The WAF's threads and log.
  let waf: WAFServices
  /// Client connections open across every event loop.
  private let connections = Atomic<Int>(0)

  init(
    metrics: GatewayMetrics, accessLog: AccessLog, limits: HTTP1Limits, maxConnections: Int,
    rateLimitStore: RedisStoreConfiguration? = nil, trustedProxyHops: Int = 0,
    waf: WAFServices = WAFServices(threads: 1, bound: 64, log: nil)
  ) {
    self.waf = waf
    self.trustedProxyHops = trustedProxyHops
    self.metrics = metrics
    self.accessLog = accessLog
    self.limits = limits
    self.maxConnections = maxConnections
    self.rateLimitStore = rateLimitStore
    // The in-gateway table is made only when it is the store (1 MiB).
    rateLimitCounters = LocalCounterStore(capacity: rateLimitStore == nil ? 1 << 16 : 64)
  }

  /// Counts a new client connection; false (and not counted) when the gateway is at its limit.
  func admitConnection() -> Bool {
    let count = connections.add(1, ordering: .relaxed).newValue
    guard count > maxConnections else { return true }
    connections.subtract(1, ordering: .relaxed)
    return false
  }

  func connectionClosed() { connections.subtract(1, ordering: .relaxed) }
}
