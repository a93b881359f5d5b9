import NIOCore

/// Everything one event loop needs per request, touched only from that loop: the current configuration,
/// connection pools, balancer counters and outlier state. Sharing nothing between loops keeps the request
/// path free of locks.
final class LoopContext {
  let eventLoop: EventLoop
  let services: GatewayServices
  private(set) var config: ActiveConfig
  /// Per-upstream state, by upstream id, and by slot for the current configuration's upstreams.
  private var upstreamStates: [String: UpstreamLoopState] = [:]
  private var upstreamStatesBySlot: [UpstreamLoopState?] = []
  /// The object a key's identifier names is kept alive with its entry, so that its address cannot be
  /// reused by another route while the entry exists.
  private var requestSeries:
    [SeriesKey: (requests: RequestCell, duration: DurationCells, owner: AnyObject?)] = [:]

  /// Identifies a request series cheaply: the route object (or the host, or nothing, for 404s), the
  /// upstream's position among the route's destinations, and the status class. Hashing three integers
  /// instead of four strings keeps the lookup flat at 10,000 routes.
  struct SeriesKey: Hashable {
    let owner: ObjectIdentifier?
    let destination: Int
    let statusClass: Int
  }
  var random = LoopRandom()
  /// This loop's access log lines, handed to the log in batches.
  let accessLog: AccessLogLines
  /// The buffer this loop's outgoing heads are written into, reused from one message to the next.
  let outgoingBuffer = ReusableBuffer()
  /// The field arrays of this loop's request heads, passed from one request to the next.
  let requestFields = FieldArrayPool()
  let deadlines: DeadlineTracker
  /// Where WAF threads hand their verdicts back to this loop.
  let wafMailbox: LoopMailbox
  /// Open downstream connections, for draining on shutdown and for their timeouts.
  var downstreamConnections: [ObjectIdentifier: DownstreamHandler] = [:]
  /// The time as of the last connection sweep: what connection timeouts are measured with, so that no
  /// request reads the clock for them.
  private(set) var coarseNow = NIODeadline.now()
  private var sweeping = false
  static let sweepInterval = TimeAmount.milliseconds(250)
  /// Set when the gateway drains: connections close as soon as they are idle.
  private(set) var isDraining = false
  /// What filters keep per loop (caches, connections, counters), by their key's slot; it outlives
  /// reloads, so a filter whose settings did not change finds its state again.
  private var filterStates: [AnyObject?] = []

  /// The state a filter keeps on this loop under `key`, made on first use. A key's name stands for one
  /// type of state: the cast is checked in debug builds only, as it runs per request.
  func filterState<State: AnyObject>(_ key: LoopStateKey, make: () -> State) -> State {
    if key.slot < filterStates.count, let state = filterStates[key.slot] {
      return unsafeDowncast(state, to: State.self)
    }
    let state = make()
    if key.slot >= filterStates.count {
      filterStates.append(contentsOf: repeatElement(nil, count: key.slot + 1 - filterStates.count))
    }
    filterStates[key.slot] = state
    return state
  }

  /// Starts the sweep that closes idle and slow connections, unless it runs already.
  func startConnectionSweep() {
    guard !sweeping else { return }
    sweeping = true
    coarseNow = .now()
    scheduleSweep()
  }

  private func scheduleSweep() {
    eventLoop.assumeIsolated().scheduleTask(in: Self.sweepInterval) { [weak self] in
      guard let self else { return }
      self.coarseNow = .now()
      for handler in self.downstreamConnections.values { handler.checkTimeouts(now: self.coarseNow) }
      self.scheduleSweep()
    }
  }

  func drain() {
    isDraining = true
    for handler in downstreamConnections.values { handler.drain() }
  }

  init(eventLoop: EventLoop, config: ActiveConfig, services: GatewayServices) {
    self.eventLoop = eventLoop
    self.deadlines = DeadlineTracker(eventLoop: eventLoop)
    self.wafMailbox = LoopMailbox(eventLoop: eventLoop)
    self.accessLog = AccessLogLines(log: services.accessLog, eventLoop: eventLoop)
    self.config = config
    self.services = services
    upstreamStatesBySlot = Array(repeating: nil, count: config.upstreams.count)
  }

  /// Switches to a new configuration; requests in flight keep the one they started with.
  func install(_ config: ActiveConfig) {
    self.config = config
    // Keys name route objects of the previous generation; the cells themselves live on in the metrics.
    requestSeries.removeAll(keepingCapacity: true)
    upstreamStatesBySlot = Array(repeating: nil, count: config.upstreams.count)
    for (id, state) in upstreamStates {
      guard let runtime = config.upstreams[id] else { continue }
      state.update(to: runtime, make: makeEndpoint(for: runtime))
      upstreamStatesBySlot[runtime.slot] = state
    }
  }

  /// The upstreams this loop has sent traffic to, by id.
  var upstreamStateList: [String: UpstreamLoopState] { upstreamStates }

  /// This loop's state for `upstream`, made on first use.
  func state(of upstream: UpstreamRuntime) -> UpstreamLoopState {
    let slot = upstream.slot
    if slot < upstreamStatesBySlot.count, let state = upstreamStatesBySlot[slot], state.runtime === upstream {
      return state
    }
    // A request of an older generation, or the upstream's first use on this loop.
    if let state = upstreamStates[upstream.id] { return state }
    let state = UpstreamLoopState(runtime: upstream, make: makeEndpoint(for: upstream))
    upstreamStates[upstream.id] = state
    if config.upstreams[upstream.id] === upstream { upstreamStatesBySlot[slot] = state }
    return state
  }

  private func makeEndpoint(for upstream: UpstreamRuntime) -> (Upstream.Endpoint) -> EndpointState {
    { [eventLoop, services] endpoint in
      EndpointState(
        endpoint: endpoint,
        pool: ConnectionPool(
          host: endpoint.address, port: endpoint.port, eventLoop: eventLoop, limits: services.limits,
          settings: upstream.pool, tls: upstream.tls(for: endpoint), speaksHTTP2: upstream.speaksHTTP2))
    }
  }

  /// Counts an outcome against an endpoint's passive health.
  func recordOutcome(_ state: UpstreamLoopState, endpoint: EndpointState, failed: Bool) {
    guard state.runtime.outlier != nil else { return }
    if state.recordOutcome(of: endpoint, failed: failed, now: .now()) {
      services.metrics.ejections.increment()
    }
  }

  /// Counts a finished request in this loop's own cells, found by the series key after the first time.
  func recordRequest(
    _ key: SeriesKey, owner: AnyObject?, host: String, route: String, destination: String,
    duration: TimeAmount
  ) {
    let series: (requests: RequestCell, duration: DurationCells)
    if let cached = requestSeries[key] {
      series = (cached.requests, cached.duration)
    } else {
      let statusClass = key.statusClass == 0 ? "none" : "\(key.statusClass)xx"
      series = services.metrics.requests.cells(
        for: .init(host: host, route: route, destination: destination, statusClass: statusClass),
        loop: ObjectIdentifier(self))
      requestSeries[key] = (series.requests, series.duration, owner)
    }
    series.requests.increment()
    series.duration.record(nanoseconds: duration.nanoseconds)
  }
}
