import NIOCore
import PorticoRedis

/// How a gateway process runs.
public struct GatewayOptions: Sendable {
  public var identity: GatewayIdentity
  public var configDirectory: String
  /// Event loops; one per core by default.
  public var threads = System.coreCount
  public var adminHost = "127.0.0.1"
  /// 0 picks a free port.
  public var adminPort = 9901
  public var accessLog: AccessLog.Destination = .standardOutput
  /// How long in-flight requests may take to finish on shutdown.
  public var drainTimeout = TimeAmount.seconds(10)
  /// How often the configuration folder is checked for changes; nil turns watching off.
  public var watchInterval: Duration? = .milliseconds(500)
  /// Where configuration comes from when not from `configDirectory` (a management plane's cached snapshot);
  /// the folder is then neither read nor watched, and only resolves relative certificate paths.
  public var snapshotSource: (@Sendable () -> ResourceSnapshot)?
  /// Overrides every listener's bind address (tests bind to 127.0.0.1).
  public var bindHost: String?
  /// Bounds on what HTTP/1.1 clients and upstreams may send, and how slowly.
  public var http1Limits = HTTP1Limits()
  /// Client connections open at once, across every event loop; more are closed as soon as accepted.
  public var maxConnections = 100_000
  /// Where rate-limit counters are kept: nil for the gateway's own memory, or a Redis (Cluster) every
  /// gateway shares.
  public var rateLimitStore: RedisStoreConfiguration?
  /// Proxies in front of the gateway whose `X-Forwarded-For` entries are trusted: with N, the client's
  /// address (what `remoteAddress` rate-limit actions read) is the Nth entry from the right; with 0, the
  /// TCP peer, whatever the header says.
  public var trustedProxyHops = 0
  /// Threads WAF rules run on.
  public var wafThreads = System.coreCount
  /// WAF work waiting or running past which a WAF route answers 503.
  public var wafQueueBound = 1024
  /// Where the lines WAF rules log go (ModSecurity's error-log format); nil: nowhere.
  public var wafLog: String?
  /// Where WAF audit entries go (ModSecurity's native serial format), for routes whose `auditLogging`
  /// asks for them.
  public var wafAuditLog = "waf-audit.log"

  var filterEnvironment: FilterEnvironment { FilterEnvironment(wafAuditLog: wafAuditLog) }
  /// The filter families routes are built with (tests add their own).
  var filterFamilies: [any ConfiguredFilter.Type] = FilterRegistry.families

  public init(identity: GatewayIdentity, configDirectory: String) {
    self.identity = identity
    self.configDirectory = configDirectory
  }
}
