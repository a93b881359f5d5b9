import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A running gateway: listeners serving the translated configuration, hot reload, the admin listener and
/// graceful shutdown.
public final class Gateway: Sendable {
  public let options: GatewayOptions
  public let metrics: GatewayMetrics
  let services: GatewayServices
  let group: MultiThreadedEventLoopGroup
  private let state = NIOLockedValueBox(State())
  private let logger: Logger

  private struct State {
    var config: ActiveConfig?
    var contexts: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
    var listeners: [String: (port: Int, channel: Channel)] = [:]
    var admin: Channel?
    var watcher: Task<Void, Never>?
    var isReady = false
  }

  public init(options: GatewayOptions, logger: Logger = Logger(label: "portico")) throws {
    self.options = options
    self.logger = logger
    metrics = GatewayMetrics()
    let dropped = metrics.accessLogLinesDropped
    services = GatewayServices(
      metrics: metrics,
      accessLog: try AccessLog(options.accessLog, droppedLines: metrics.accessLogLinesDropped),
      limits: options.http1Limits,
      maxConnections: options.maxConnections, rateLimitStore: options.rateLimitStore,
      trustedProxyHops: options.trustedProxyHops,
      waf: WAFServices(
        threads: options.wafThreads, bound: options.wafQueueBound,
        log: try options.wafLog.map { try AccessLog(.file($0), droppedLines: dropped) }))
    group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
  }

  /// The configuration being served.
  public var activeConfig: ActiveConfig? { state.withLockedValue { $0.config } }

  /// Bound ports by listener port name (useful when the identity asked for port 0).
  public var boundPorts: [String: Int] {
    state.withLockedValue { $0.listeners.mapValues { $0.channel.localAddress?.port ?? $0.port } }
  }

  public var adminPort: Int? { state.withLockedValue { $0.admin?.localAddress?.port } }

  public var isReady: Bool { state.withLockedValue { $0.isReady } }

  // MARK: - Starting

  /// Loads the configuration folder, binds every listener and the admin listener, and starts watching the
  /// folder. Errors in the configuration are logged; what is valid is served.
  public func start() async throws {
    // Taken before loading, so that a change made while the gateway starts is seen by the watcher.
    let snapshot = load()
    let config = ActiveConfig(
      generation: 1, translation: Translator().translate(snapshot, for: options.identity),
      diagnostics: snapshot.allDiagnostics, configDirectory: options.configDirectory,
      filterFamilies: options.filterFamilies, filterEnvironment: options.filterEnvironment)
    let fingerprint = FolderFingerprint(directory: options.configDirectory, files: externalFiles(of: config))
    log(
      Array(
        Set(
          config.diagnostics + config.tlsDiagnostics
            + config.translation.statuses.flatMap { $0.errors + $0.warnings })),
      context: "configuration")
    var contexts: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
    for loop in group.makeIterator() {
      let context = try await loop.submit { [services] in
        NIOLoopBound(LoopContext(eventLoop: loop, config: config, services: services), eventLoop: loop)
      }.get()
      contexts[ObjectIdentifier(loop)] = context
    }
    state.withLockedValue {
      $0.config = config
      $0.contexts = contexts
    }
    metrics.configGeneration.set(1)
    try await syncListeners(with: config)
    let admin = try await AdminServer.bind(
      gateway: self, host: options.adminHost, port: options.adminPort, group: group)
    state.withLockedValue {
      $0.admin = admin
      $0.isReady = true
    }
    if let interval = options.watchInterval, options.snapshotSource == nil {
      startWatching(every: interval, from: fingerprint)
    }
    logger.info("gateway ready", metadata: ["ports": "\(boundPorts)", "admin": "\(adminPort ?? 0)"])
  }

  private func load() -> ResourceSnapshot {
    options.snapshotSource?() ?? ManifestLoader().load(directory: options.configDirectory)
  }

  // MARK: - Listeners

  /// Binds listeners the configuration has and the gateway lacks, and closes those it no longer has.
  private func syncListeners(with config: ActiveConfig) async throws {
    var wanted: [String: Int] = [:]
    for listener in config.config.listeners {
      guard config.listeners[listener.portName]?.isServed ?? false else {
        logger.warning(
          "listener has no connection handler the gateway can serve; not bound",
          metadata: ["port_name": "\(listener.portName)"])
        continue
      }
      guard let port = listener.port else {
        logger.warning(
          "listener has no port; give the gateway --port \(listener.portName)=NUMBER",
          metadata: ["port_name": "\(listener.portName)"])
        continue
      }
      wanted[listener.portName] = port
    }
    let current = state.withLockedValue { $0.listeners }
    for (name, existing) in current where wanted[name] != existing.port {
      try? await existing.channel.close()
      state.withLockedValue { _ = $0.listeners.removeValue(forKey: name) }
      logger.info("listener closed", metadata: ["port_name": "\(name)"])
    }
    for (name, port) in wanted.sorted(by: { $0.key < $1.key })
    where state.withLockedValue({ $0.listeners[name] == nil }) {
      let bindAddress = options.bindHost ?? config.listeners[name]?.listener.bindAddress ?? "0.0.0.0"
      let channel: Channel
      do {
        channel = try await bindListener(portName: name, host: bindAddress, port: port)
      } catch {
        logger.error("cannot listen on \(bindAddress):\(port) for port '\(name)': \(error)")
        continue
      }
      state.withLockedValue { $0.listeners[name] = (port, channel) }
      logger.info(
        "listening",
        metadata: ["port_name": "\(name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "")"])
    }
  }

  private func bindListener(portName: String, host: String, port: Int) async throws -> Channel {
    let contexts = state.withLockedValue { $0.contexts }
    return try await ServerBootstrap(group: group)
      .gatewayListenerOptions()
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let loop = contexts[ObjectIdentifier(channel.eventLoop)]!.value
          let downstream = DownstreamHandler(loop: loop, portName: portName)
          if loop.config.listeners[portName]?.tlsChains.isEmpty == false {
            try channel.pipeline.syncOperations.addHandler(
              ConnectionSniffer(loop: loop, portName: portName, downstream: downstream))
          }
          try channel.pipeline.syncOperations.addHandler(downstream)
        }
      }
      .bind(host: host, port: port).get()
  }

  // MARK: - Reloading

  /// The outcome of a reload.
  public enum ReloadOutcome: Sendable, Equatable {
    case unchanged
    case applied(generation: Int)
    /// The change introduced errors; the previous configuration keeps serving.
    case rejected(errors: [String])
  }

  /// Loads, translates and compiles the folder off the event loops and swaps it in everywhere. A change that
  /// introduces errors the serving configuration does not have is rejected, and every error is logged with
  /// its file and line.
  @discardableResult
  public func reload() async -> ReloadOutcome {
    await apply(load())
  }

  /// Translates and compiles `snapshot` (from the folder, or pushed by a management plane) and swaps it in
  /// everywhere. With `rejectingNewErrors`, a snapshot that has errors the serving configuration does not have
  /// is rejected and the serving one stays; without it (a first snapshot), what is valid is served.
  @discardableResult
  public func apply(_ snapshot: ResourceSnapshot, rejectingNewErrors: Bool = true) async -> ReloadOutcome {
    guard let current = activeConfig else { return .unchanged }
    let config = ActiveConfig(
      generation: current.generation + 1,
      translation: Translator().translate(snapshot, for: options.identity),
      diagnostics: snapshot.allDiagnostics, configDirectory: options.configDirectory,
      filterFamilies: options.filterFamilies, filterEnvironment: options.filterEnvironment)
    let newErrors = Self.errorKeys(config).subtracting(Self.errorKeys(current))
    if rejectingNewErrors && !newErrors.isEmpty {
      let errors = Self.errors(of: config).filter { newErrors.contains(Self.key($0)) }
      log(errors, context: "reload rejected")
      metrics.reloadFailures.increment()
      return .rejected(errors: Array(Set(errors.map(\.description))).sorted())
    }
    if !rejectingNewErrors { log(Self.errors(of: config), context: "configuration") }
    let contexts = state.withLockedValue {
      $0.config = config
      return $0.contexts
    }
    for (_, context) in contexts {
      let loop = context.eventLoop
      try? await loop.submit { context.value.install(config) }.get()
    }
    do {
      try await syncListeners(with: config)
    } catch {
      logger.error("listener change failed: \(error)")
    }
    metrics.reloadSuccesses.increment()
    metrics.configGeneration.set(Int64(config.generation))
    logger.info("configuration reloaded", metadata: ["generation": "\(config.generation)"])
    return .applied(generation: config.generation)
  }

  private static func key(_ diagnostic: Diagnostic) -> String {
    "\(diagnostic.location?.file ?? "")|\(diagnostic.path)|\(diagnostic.message)"
  }

  private static func errors(of config: ActiveConfig) -> [Diagnostic] {
    Array(
      Set(config.diagnostics + config.translation.statuses.flatMap(\.errors) + config.tlsDiagnostics)
    ).filter(\.isError)
  }

  private static func errorKeys(_ config: ActiveConfig) -> Set<String> { Set(errors(of: config).map(key)) }

  /// The `sslFiles` a configuration reads, as paths.
  private func externalFiles(of config: ActiveConfig?) -> [String] {
    (config?.externalFiles ?? []).map {
      TLSContextBuilder.path($0, configDirectory: options.configDirectory)
    }
  }

  private func startWatching(every interval: Duration, from initial: FolderFingerprint) {
    let watcher = Task { [weak self, directory = options.configDirectory] in
      var fingerprint = initial
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        let next = FolderFingerprint(
          directory: directory, files: self?.externalFiles(of: self?.activeConfig) ?? [])
        guard next != fingerprint, let self else { continue }
        fingerprint = next
        await self.reload()
      }
    }
    state.withLockedValue { $0.watcher = watcher }
  }

  private func log(_ diagnostics: [Diagnostic], context: String) {
    for diagnostic in diagnostics.sortedBySource() {
      let message: Logger.Message = "\(context): \(diagnostic.severity.rawValue): \(diagnostic)"
      if diagnostic.isError { logger.error(message) } else { logger.warning(message) }
    }
  }

  /// Every event loop's context.
  var loopContexts: [NIOLoopBound<LoopContext>] { state.withLockedValue { Array($0.contexts.values) } }

  /// Hands every loop's access log lines to the log, and waits until they are written. Each loop first
  /// finishes the work it had queued, so requests answered so far are in the log.
  func flushAccessLog() async {
    let contexts = state.withLockedValue { $0.contexts }
    for (_, context) in contexts {
      try? await context.eventLoop.submit { context.value.accessLog.handOver() }.get()
    }
    services.accessLog.flush()
  }

  // MARK: - Shutting down

  /// Stops accepting connections, lets requests in flight finish for up to the drain timeout, then closes
  /// everything.
  public func shutdown() async {
    let (listeners, admin, watcher, contexts) = state.withLockedValue {
      $0.isReady = false
      let taken = ($0.listeners, $0.admin, $0.watcher, $0.contexts)
      $0.listeners = [:]
      $0.admin = nil
      $0.watcher = nil
      return taken
    }
    watcher?.cancel()
    for (_, listener) in listeners { try? await listener.channel.close() }
    for (_, context) in contexts {
      try? await context.eventLoop.submit { context.value.drain() }.get()
    }
    let deadline = ContinuousClock.now + .nanoseconds(options.drainTimeout.nanoseconds)
    while ContinuousClock.now < deadline {
      var open = 0
      for (_, context) in contexts {
        open += (try? await context.eventLoop.submit { context.value.downstreamConnections.count }.get()) ?? 0
      }
      if open == 0 { break }
      try? await Task.sleep(for: .milliseconds(20))
    }
    try? await admin?.close()
    await flushAccessLog()
    try? await group.shutdownGracefully()
    await services.waf.pool.stop()
    services.waf.flush()
    logger.info("gateway stopped")
  }
}

/// Paths, sizes and modification times of a folder's manifests and of the other files the configuration
/// reads (certificates named by `sslFiles`): what changes when any of them changes.
struct FolderFingerprint: Equatable {
  let entries: [String]

  init(directory: String, files: [String] = []) {
    let root = URL(fileURLWithPath: directory)
    let manifests = ((try? ManifestLoader.manifestFiles(under: root)) ?? []).map {
      root.appendingPathComponent($0).path
    }
    entries = (manifests + files).map { path in
      let attributes = try? FileManager.default.attributesOfItem(atPath: path)
      let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
      let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      return "\(path)|\(size)|\(modified)"
    }
  }
}
