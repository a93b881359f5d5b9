import NIOCore

/// One generation of what the gateway serves: the translation, a compiled router per listener and filter
/// chain, and upstream runtime settings. Immutable; a reload builds a new one and every event loop swaps to
/// it, while requests in flight keep the one they started with.
public final class ActiveConfig: Sendable {
  public let generation: Int
  public let translation: Translation
  /// Load-time diagnostics of the snapshot this generation was built from.
  public let diagnostics: [Diagnostic]
  /// TLS material that could not be used (a certificate or key that does not parse, a file that cannot
  /// be read), placed at the `sslConfig` that names it. Its chain is not served.
  public let tlsDiagnostics: [Diagnostic]
  let listeners: [String: ListenerRuntime]
  let upstreams: [String: UpstreamRuntime]

  init(
    generation: Int, translation: Translation, diagnostics: [Diagnostic], configDirectory: String,
    filterFamilies: [any ConfiguredFilter.Type] = FilterRegistry.families,
    filterEnvironment: FilterEnvironment = .init()
  ) {
    self.generation = generation
    self.translation = translation
    self.diagnostics = diagnostics
    var tlsDiagnostics: [Diagnostic] = []
    let upstreams = UpstreamRuntime.table(
      for: translation.config, configDirectory: configDirectory, diagnostics: &tlsDiagnostics)
    var listeners: [String: ListenerRuntime] = [:]
    let filters = FilterBuilder(families: filterFamilies, environment: filterEnvironment)
    for listener in translation.config.listeners {
      listeners[listener.portName] = ListenerRuntime(
        listener, upstreams: upstreams, filters: filters, configDirectory: configDirectory,
        diagnostics: &tlsDiagnostics)
    }
    self.listeners = listeners
    self.upstreams = upstreams
    self.tlsDiagnostics = tlsDiagnostics
  }

  public var config: GatewayConfig { translation.config }

  /// Files outside the configuration that it depends on (`sslFiles`): a change to them is a change to the
  /// configuration.
  var externalFiles: [String] {
    config.listeners.flatMap(\.serverNameChains).compactMap(\.tls).flatMap { tls -> [String] in
      guard case .files(let chain, let key, let rootCA) = tls.material else { return [] }
      return [chain, key] + (rootCA.map { [$0] } ?? [])
    }
  }
}

/// What a listener serves: over plain HTTP, the hosts of its server-name chains without TLS settings (or, when
/// one of them says `httpsRedirect`, a redirect of everything to https); over TLS, each terminating chain
/// with its own certificate and hosts, chosen by the client's SNI name.
struct ListenerRuntime: Sendable {
  let listener: Listener
  let router: CompiledRouter
  let redirectsToHTTPS: Bool
  let servesPlaintext: Bool
  let tlsChains: [TLSChainRuntime]

  /// Whether the listener has anything to serve: unbound otherwise.
  var isServed: Bool { servesPlaintext || !tlsChains.isEmpty }

  init(
    _ listener: Listener, upstreams: [String: UpstreamRuntime], filters: FilterBuilder,
    configDirectory: String,
    diagnostics: inout [Diagnostic]
  ) {
    self.listener = listener
    let attach: RouteAttachment = { _, route in
      RouteRuntime(route, upstreams: upstreams, filters: filters.filters(for: route))
    }
    let plain = listener.serverNameChains.filter { $0.sslConfig == nil }
    servesPlaintext = !plain.isEmpty
    redirectsToHTTPS = plain.contains(where: \.httpsRedirect)
    router = CompiledRouter(virtualHosts: plain.flatMap(\.virtualHosts), attach: attach)
    var tlsChains: [TLSChainRuntime] = []
    for chain in listener.serverNameChains {
      if let passthrough = chain.passthrough {
        tlsChains.append(
          TLSChainRuntime(
            serverNames: chain.serverNames,
            mode: .passthrough(TCPForwardRuntime(passthrough, upstreams: upstreams))))
        continue
      }
      guard let tls = chain.tls else { continue }
      do {
        let context = try TLSContextBuilder.context(for: tls, configDirectory: configDirectory)
        let termination = TLSChainRuntime.Termination(
          context: context, router: CompiledRouter(virtualHosts: chain.virtualHosts, attach: attach),
          verifiesClients: tls.mode == .mutual, verifySubjectAltNames: tls.verifySubjectAltNames)
        tlsChains.append(TLSChainRuntime(serverNames: chain.serverNames, mode: .terminate(termination)))
      } catch {
        diagnostics.append(
          Diagnostic(.error, at: tls.location, path: ["sslConfig"], "\(error); this handler is not served"))
      }
    }
    self.tlsChains = tlsChains
  }
}

/// How the gateway reaches one upstream: its endpoints and the limits of its connection pools. A class, so
/// that a request holds it without copying its fields.
final class UpstreamRuntime: Sendable {
  let id: String
  /// Its position in the configuration's upstream table, for per-loop state kept in an array.
  let slot: Int
  let endpoints: [Upstream.Endpoint]
  let pool: PoolSettings
  let outlier: OutlierSettings?
  let balancing: Balancing
  /// Set when the destination says `tls`.
  let tls: UpstreamTLS?
  /// Other clusters' east-west gateways, by the SNI name each endpoint is reached with.
  let meshTLS: [String: UpstreamTLS]
  /// The destination's `protocol` is HTTP2 or GRPC.
  let speaksHTTP2: Bool

  init(
    id: String, slot: Int, endpoints: [Upstream.Endpoint], pool: PoolSettings, outlier: OutlierSettings?,
    balancing: Balancing, tls: UpstreamTLS?, meshTLS: [String: UpstreamTLS] = [:], speaksHTTP2: Bool
  ) {
    self.meshTLS = meshTLS
    self.id = id
    self.slot = slot
    self.endpoints = endpoints
    self.pool = pool
    self.outlier = outlier
    self.balancing = balancing
    self.tls = tls
    self.speaksHTTP2 = speaksHTTP2
  }

  /// How an endpoint is reached: with the mesh identity for an east-west gateway, else as the destination says.
  func tls(for endpoint: Upstream.Endpoint) -> UpstreamTLS? {
    endpoint.meshServerName.map { meshTLS[$0] } ?? tls
  }

  enum Balancing: Sendable {
    case roundRobin
    case leastRequest
  }

  /// Settings come from the first route (in listener and route order) that forwards to the upstream and
  /// sets them; pools are shared by every route that uses the upstream.
  static func table(for config: GatewayConfig, configDirectory: String, diagnostics: inout [Diagnostic])
    -> [String: UpstreamRuntime]
  {
    var pools: [String: PoolSettings] = [:]
    var outliers: [String: OutlierSettings] = [:]
    for host in config.virtualHosts {
      for route in host.routes {
        guard case .forward(let forward) = route.action else { continue }
        for destination in forward.destinations {
          if pools[destination.upstream] == nil, let settings = route.options.values.connectionPoolSettings {
            pools[destination.upstream] = PoolSettings(settings)
          }
          if outliers[destination.upstream] == nil, let detection = route.options.values.outlierDetection {
            outliers[destination.upstream] = OutlierSettings(detection)
          }
        }
      }
    }
    var table: [String: UpstreamRuntime] = [:]
    for (slot, upstream) in config.upstreams.enumerated() {
      let speaksHTTP2 = upstream.protocol != .http
      var tls: UpstreamTLS?
      if let settings = upstream.tls {
        do {
          tls = try UpstreamTLS(settings, speaksHTTP2: speaksHTTP2, configDirectory: configDirectory)
        } catch {
          // Without its TLS settings the upstream has no endpoint the gateway may use.
          diagnostics.append(Diagnostic(.error, at: nil, path: ["tls"], "\(upstream.source): \(error)"))
          table[upstream.id] = UpstreamRuntime(
            id: upstream.id, slot: slot, endpoints: [], pool: PoolSettings(), outlier: nil,
            balancing: .roundRobin, tls: nil, speaksHTTP2: speaksHTTP2)
          continue
        }
      }
      var meshTLS: [String: UpstreamTLS] = [:]
      var endpoints = upstream.endpoints
      if let identity = upstream.meshIdentity {
        for name in Set(endpoints.compactMap(\.meshServerName)) {
          do {
            meshTLS[name] = try UpstreamTLS(mesh: identity, serverName: name, speaksHTTP2: speaksHTTP2)
          } catch {
            diagnostics.append(
              Diagnostic(.error, at: nil, path: [], "\(upstream.source): mesh identity: \(error)"))
          }
        }
      }
      // An east-west endpoint without a usable mesh identity is never dialled in the clear.
      endpoints.removeAll { $0.meshServerName != nil && meshTLS[$0.meshServerName!] == nil }
      table[upstream.id] = UpstreamRuntime(
        id: upstream.id, slot: slot, endpoints: endpoints,
        pool: pools[upstream.id] ?? PoolSettings(),
        outlier: outliers[upstream.id] ?? upstream.outlierDetection.map(OutlierSettings.init),
        balancing: upstream.loadBalancer == .leastRequest ? .leastRequest : .roundRobin, tls: tls,
        meshTLS: meshTLS, speaksHTTP2: speaksHTTP2)
    }
    return table
  }
}

/// Connection pool limits (from `connectionPoolSettings`), with the defaults a user would expect.
struct PoolSettings: Sendable, Equatable {
  var maxConnections = 1024
  var maxPendingRequests = 1024
  /// 0: unlimited.
  var maxRequestsPerConnection = 0
  var idleTimeout = TimeAmount.hours(1)
  var connectTimeout = TimeAmount.seconds(10)
  /// Streams open at once on an HTTP/2 upstream connection (`http2MaxRequests`); more requests wait.
  var maxConcurrentStreams = 100
  /// Retries in flight to the upstream (`maxRetries`); nil: the retry budget decides.
  var maxRetries: Int?

  init() {}

  init(_ settings: ConnectionPoolSettings) {
    if let value = settings.tcp?.maxConnections, value > 0 { maxConnections = Int(value) }
    if let value = settings.http?.http1MaxPendingRequests, value > 0 { maxPendingRequests = Int(value) }
    if let value = settings.http?.maxRequestsPerConnection, value > 0 {
      maxRequestsPerConnection = Int(value)
    }
    if let value = settings.http?.idleTimeout?.nanoseconds, value > 0 { idleTimeout = .nanoseconds(value) }
    if let value = settings.tcp?.connectTimeout?.nanoseconds, value > 0 {
      connectTimeout = .nanoseconds(value)
    }
    if let value = settings.http?.http2MaxRequests, value > 0 { maxConcurrentStreams = Int(value) }
    if let value = settings.http?.maxRetries, value >= 0 { maxRetries = Int(value) }
  }
}

/// Passive health checking (from `outlierDetection`).
struct OutlierSettings: Sendable, Equatable {
  var consecutiveErrors = 5
  var baseEjectionTime = TimeAmount.seconds(30)
  var maxEjectionPercent = 10

  init(_ detection: OutlierDetection) {
    if let value = detection.consecutiveErrors, value > 0 { consecutiveErrors = Int(value) }
    if let value = detection.baseEjectionTime?.nanoseconds, value > 0 {
      baseEjectionTime = .nanoseconds(value)
    }
    if let value = detection.maxEjectionPercent { maxEjectionPercent = Int(value) }
  }
}
