import ArgumentParser
import Foundation
import Logging
import NIOCore
import PorticoProxy
import PorticoRedis
import PorticoRelay
import ServiceLifecycle

/// Flags shared by the commands that serve traffic.
struct ServingOptions: ParsableArguments {
  @Option(help: "The admin listener, as ADDRESS:PORT.")
  var admin: String = "127.0.0.1:9901"

  @Option(help: "Event loops (default: one per core).")
  var threads: Int = System.coreCount

  @Option(
    name: .customLong("access-log"),
    help: "Where access log lines go: '-' (standard output), a file, or 'off'.")
  var accessLog: String = "-"

  @Option(
    name: .customLong("drain-timeout"), help: "Seconds in-flight requests may take to finish on shutdown.")
  var drainTimeout: Int = 10

  @Option(
    name: .customLong("max-connections"), help: "Client connections open at once; more are closed on accept.")
  var maxConnections: Int = 100_000

  @Option(
    name: .customLong("header-timeout"),
    help: "Seconds a client may take to send a request's head once it has started (then 408).")
  var headerTimeout: Double = 10

  @Option(
    name: .customLong("idle-timeout"), help: "Seconds a client connection may stay open with no request.")
  var idleTimeout: Double = 60

  @Option(
    name: .customLong("rate-limit-store"),
    help:
      "Where rate-limit counters are kept: 'local' (this gateway), redis://HOST:PORT or redis-cluster://HOST:PORT,... (shared by every gateway)."
  )
  var rateLimitStore: String = "local"

  @Option(
    name: .customLong("xff-trusted-hops"),
    help:
      "Proxies in front of the gateway whose X-Forwarded-For entries are trusted: the client is the entry this many from the right (0: the TCP peer)."
  )
  var trustedProxyHops: Int = 0

  @Option(
    name: .customLong("waf-log"),
    help: "File the lines WAF rules log are appended to, in ModSecurity's error-log format (default: none).")
  var wafLog: String?

  @Option(
    name: .customLong("waf-audit-log"),
    help:
      "File WAF audit entries go to (ModSecurity's native serial format), for routes whose waf.auditLogging asks for them."
  )
  var wafAuditLog: String = "waf-audit.log"

  @Option(name: .customLong("waf-threads"), help: "Threads WAF rules run on (default: one per core).")
  var wafThreads: Int = System.coreCount

  @Option(
    name: .customLong("waf-queue"),
    help: "WAF work waiting or running past which WAF routes answer 503 (default 1024).")
  var wafQueueBound: Int = 1024

  func apply(to options: inout GatewayOptions) throws {
    guard let colon = admin.lastIndex(of: ":"), let port = Int(admin[admin.index(after: colon)...]) else {
      throw ValidationError("--admin needs ADDRESS:PORT, got '\(admin)'")
    }
    options.adminHost = String(admin[..<colon])
    options.adminPort = port
    options.threads = max(1, threads)
    options.drainTimeout = .seconds(Int64(drainTimeout))
    guard maxConnections > 0, headerTimeout > 0, idleTimeout > 0 else {
      throw ValidationError("--max-connections, --header-timeout and --idle-timeout must be positive")
    }
    options.maxConnections = maxConnections
    options.http1Limits.headerTimeout = .nanoseconds(Int64(headerTimeout * 1e9))
    options.http1Limits.idleTimeout = .nanoseconds(Int64(idleTimeout * 1e9))
    guard trustedProxyHops >= 0 else { throw ValidationError("--xff-trusted-hops must not be negative") }
    options.trustedProxyHops = trustedProxyHops
    guard wafThreads > 0, wafQueueBound > 0 else {
      throw ValidationError("--waf-threads and --waf-queue must be positive")
    }
    options.wafThreads = wafThreads
    options.wafQueueBound = wafQueueBound
    options.wafLog = wafLog
    options.wafAuditLog = wafAuditLog
    if rateLimitStore != "local" {
      do {
        options.rateLimitStore = try RedisStoreConfiguration(url: rateLimitStore)
      } catch {
        throw ValidationError(
          "--rate-limit-store needs local, redis://HOST:PORT or redis-cluster://HOST:PORT,..., got '\(rateLimitStore)'"
        )
      }
    }
    switch accessLog {
    case "-": options.accessLog = .standardOutput
    case "off": options.accessLog = .disabled
    default: options.accessLog = .file(accessLog)
    }
  }
}

/// Runs services until SIGTERM or SIGINT, then shuts them down gracefully.
func runUntilSignalled(_ services: [any Service], logger: Logger) async throws {
  logger.info("allocator", metadata: ["allocator": "\(Allocator.description)"])
  let group = ServiceGroup(
    configuration: .init(
      services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger))
  try await group.run()
}

struct GatewayCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gateway",
    abstract:
      "Run one gateway: serve what the configuration folder says for this gateway, or what a management plane sends it."
  )

  @Option(help: "The configuration folder (watched for changes).")
  var config: String?

  @Option(help: "The gateway's name (what VirtualGateways select).")
  var name: String

  @OptionGroup var details: GatewayIdentityDetails

  @OptionGroup var managed: ManagedGatewayFlags

  @OptionGroup var serving: ServingOptions

  func run() async throws {
    let identity = try details.identity(name: name)
    let logger = Logger(label: "portico")
    guard let relay = managed.mgmt else {
      guard let config else {
        throw ValidationError("give --config DIR, or --mgmt HOST:PORT for a managed gateway")
      }
      var options = GatewayOptions(identity: identity, configDirectory: config)
      try serving.apply(to: &options)
      let gateway = try Gateway(options: options, logger: logger)
      try await runUntilSignalled([GatewayService(gateway: gateway)], logger: logger)
      return
    }
    guard config == nil else { throw ValidationError("--config and --mgmt exclude each other") }
    guard let relayCA = managed.relayCA, let tokenFile = managed.tokenFile,
      let cacheDirectory = managed.cacheDirectory
    else {
      throw ValidationError("a managed gateway needs --relay-ca, --token-file and --cache-dir")
    }
    let planes = try planeAddresses(relay)
    let cache = SnapshotCache(directory: cacheDirectory)
    try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
    // Until the plane answers, the gateway serves what it last applied.
    let cached = cache.snapshot() ?? ShippedSnapshot()
    var options = GatewayOptions(identity: identity, configDirectory: cacheDirectory)
    options.snapshotSource = { cached.load() }
    try serving.apply(to: &options)
    let gateway = try Gateway(options: options, logger: logger)
    let agent = GatewayAgent(
      options: .init(
        link: RelayLink(
          planes: planes, relayCA: try String(contentsOfFile: relayCA, encoding: .utf8),
          identity: identity,
          tokenFile: tokenFile, cache: cache)),
      applier: GatewaySnapshotApplier(gateway: gateway), logger: logger)
    try await runUntilSignalled(
      [GatewayService(gateway: gateway), GatewayAgentService(agent: agent, gateway: gateway)], logger: logger)
  }
}

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Run everything a configuration folder needs on this machine: the gateway its first VirtualGateway describes."
  )

  @Argument(help: "The configuration folder (watched for changes).")
  var directory: String

  @Option(
    name: .customLong("port"), help: "A named listen port, as name=number. Default: http=8080, https=8443.")
  var ports: [String] = []

  @Flag(
    help:
      "Also start a demo upstream on every 127.0.0.1 / localhost endpoint of the folder's StaticDestinations."
  )
  var demoUpstreams = false

  @OptionGroup var serving: ServingOptions

  func run() async throws {
    let snapshot = loadFolder(directory)
    guard let virtualGateway = snapshot.virtualGateways.first else {
      throw ValidationError("\(directory) has no VirtualGateway")
    }
    var identity = GatewayIdentity.implied(by: virtualGateway)
    identity.ports = try makeIdentity(
      name: identity.name, namespace: identity.namespace, cluster: identity.cluster, labels: [],
      ports: ports.isEmpty ? ["http=8080", "https=8443"] : ports
    ).ports
    var options = GatewayOptions(identity: identity, configDirectory: directory)
    try serving.apply(to: &options)
    let logger = Logger(label: "portico")
    if demoUpstreams {
      for destination in snapshot.staticDestinations {
        for endpoint in destination.spec.endpoints ?? []
        where ["127.0.0.1", "localhost"].contains(endpoint.address) {
          _ = try await DemoUpstream.start(
            name: destination.name, port: Int(endpoint.port),
            behaviour: .init(http2: destination.spec.protocol == .http2))
          logger.info("demo upstream", metadata: ["name": "\(destination.name)", "port": "\(endpoint.port)"])
        }
      }
    }
    let gateway = try Gateway(options: options, logger: logger)
    try await runUntilSignalled([GatewayService(gateway: gateway)], logger: logger)
  }
}

struct DemoUpstreamCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo-upstream",
    abstract: "A small HTTP service that echoes requests as JSON (/status/CODE, /delay/MS/..., /bytes/N).")

  @Option(help: "Port to listen on. Repeatable.")
  var port: [Int]

  @Option(help: "Name reported in responses.")
  var name = "demo"

  func run() async throws {
    for port in port { _ = try await DemoUpstream.start(name: name, port: port) }
    print("demo upstream '\(name)' on 127.0.0.1 port(s) \(port.map(String.init).joined(separator: ", "))")
    while true { try await Task.sleep(for: .seconds(3600)) }
  }
}
