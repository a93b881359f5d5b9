import NIOCore

/// Everything one event loop needs per request, touched only from that loop: the current configuration,
/// connection pools, balancer counters and outlier state. Sharing nothing between loops keeps the request
/// path free of locks.
final class LoopContext {
  let eventLoop: EventLoop
  let services: GatewayServices
  private(set) var config: ActiveConfig
  private var pools: [String: ConnectionPool] = [:]
  private var roundRobin: [String: Int] = [:]
  private var outliers: [String: OutlierState] = [:]
  /// The object a key's identifier names is kept alive with its entry, so that its address cannot be
  /// reused by another route while the entry exists.
  private var requestSeries: [SeriesKey: (series: GatewayMetrics.RequestSeries, owner: AnyObject?)] = [:]

  /// Identifies a request series cheaply: the route object (or the host, or nothing, for 404s), the
  /// upstream's position among the route's destinations, and the status class. Hashing three integers
  /// instead of four strings keeps the lookup flat at 10,000 routes.
  struct SeriesKey: Hashable {
    let owner: ObjectIdentifier?
    let destination: Int
    let statusClass: Int
  }
  var random = LoopRandom()
  let deadlines: DeadlineTracker
  /// Open downstream connections, for draining on shutdown.
  var downstreamConnections: [ObjectIdentifier: DownstreamHandler] = [:]
  /// Set when the gateway drains: connections close as soon as they are idle.
  private(set) var isDraining = false

  func drain() {
    isDraining = true
    for handler in downstreamConnections.values { handler.drain() }
  }

  init(eventLoop: EventLoop, config: ActiveConfig, services: GatewayServices) {
    self.eventLoop = eventLoop
    self.deadlines = DeadlineTracker(eventLoop: eventLoop)
    self.config = config
    self.services = services
  }

  /// Switches to a new configuration; requests in flight keep the one they started with.
  func install(_ config: ActiveConfig) {
    self.config = config
    // Keys name route objects of the previous generation; the series themselves live on in the registry.
    requestSeries.removeAll(keepingCapacity: true)
    for (key, pool) in pools {
      let upstreamID = String(key.prefix { $0 != "|" })
      if let upstream = config.upstreams[upstreamID] { pool.settings = upstream.pool }
    }
  }

  /// The pool for `endpoint` of `upstream`.
  func pool(for upstream: UpstreamRuntime, endpoint: Upstream.Endpoint) -> ConnectionPool {
    let key = "\(upstream.id)|\(endpoint.address):\(endpoint.port)"
    if let pool = pools[key] { return pool }
    let pool = ConnectionPool(
      host: endpoint.address, port: endpoint.port, eventLoop: eventLoop, settings: upstream.pool)
    pools[key] = pool
    return pool
  }

  /// An endpoint of `upstream` that is not ejected, chosen by its balancing policy; nil when none is left.
  func pickEndpoint(of upstream: UpstreamRuntime) -> Upstream.Endpoint? {
    let endpoints = upstream.endpoints
    guard !endpoints.isEmpty else { return nil }
    let now = NIODeadline.now()
    func healthy(_ endpoint: Upstream.Endpoint) -> Bool {
      guard let state = outliers[Self.key(upstream, endpoint)] else { return true }
      return state.ejectedUntil <= now
    }
    switch upstream.balancing {
    case .roundRobin:
      let start = roundRobin[upstream.id, default: 0]
      for offset in 0..<endpoints.count {
        let candidate = endpoints[(start + offset) % endpoints.count]
        if healthy(candidate) {
          roundRobin[upstream.id] = (start + offset + 1) % endpoints.count
          return candidate
        }
      }
      return nil
    case .leastRequest:
      let candidates = endpoints.filter(healthy)
      guard candidates.count > 1 else { return candidates.first }
      // Two different endpoints at random; the one with fewer requests in flight wins.
      let firstIndex = random.next(below: candidates.count)
      let secondIndex = (firstIndex + 1 + random.next(below: candidates.count - 1)) % candidates.count
      let (first, second) = (candidates[firstIndex], candidates[secondIndex])
      let firstLoad = pool(for: upstream, endpoint: first).activeRequests
      let secondLoad = pool(for: upstream, endpoint: second).activeRequests
      return secondLoad < firstLoad ? second : first
    }
  }

  /// Passive health: consecutive gateway errors or 5xx eject an endpoint for a while (longer each time), as
  /// long as no more than `maxEjectionPercent` of the upstream's endpoints are out.
  func recordOutcome(upstream: UpstreamRuntime, endpoint: Upstream.Endpoint, failed: Bool) {
    guard let settings = upstream.outlier else { return }
    let key = Self.key(upstream, endpoint)
    var state = outliers[key] ?? OutlierState()
    guard failed else {
      if state.consecutiveFailures != 0 {
        state.consecutiveFailures = 0
        outliers[key] = state
      }
      return
    }
    state.consecutiveFailures += 1
    let now = NIODeadline.now()
    if state.consecutiveFailures >= settings.consecutiveErrors, state.ejectedUntil <= now {
      let ejected = upstream.endpoints.filter {
        (outliers[Self.key(upstream, $0)]?.ejectedUntil ?? now) > now
      }.count
      if (ejected + 1) * 100 <= settings.maxEjectionPercent * upstream.endpoints.count {
        state.ejections += 1
        state.ejectedUntil = now + settings.baseEjectionTime * Int64(state.ejections)
        state.consecutiveFailures = 0
        services.metrics.ejections.increment()
      }
    }
    outliers[key] = state
  }

  /// Counts a finished request. Series are created once per label set on each loop, then reused.
  func recordRequest(
    _ key: SeriesKey, owner: AnyObject?, host: String, route: String, destination: String,
    duration: TimeAmount
  ) {
    let series: GatewayMetrics.RequestSeries
    if let cached = requestSeries[key] {
      series = cached.series
    } else {
      let statusClass = key.statusClass == 0 ? "none" : "\(key.statusClass)xx"
      series = services.metrics.requestSeries(
        host: host, route: route, destination: destination, statusClass: statusClass)
      requestSeries[key] = (series, owner)
    }
    series.requests.increment()
    series.duration.recordNanoseconds(duration.nanoseconds)
  }

  private static func key(_ upstream: UpstreamRuntime, _ endpoint: Upstream.Endpoint) -> String {
    "\(upstream.id)|\(endpoint.address):\(endpoint.port)"
  }
}

struct OutlierState {
  var consecutiveFailures = 0
  var ejections = 0
  var ejectedUntil = NIODeadline.uptimeNanoseconds(0)
}
