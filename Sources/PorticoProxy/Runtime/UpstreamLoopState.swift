import NIOCore
import PorticoTranslate

/// One event loop's state for one upstream: a pool and passive-health record per endpoint, and the
/// round-robin position. Requests hold `EndpointState` directly, so nothing is looked up by name again.
final class UpstreamLoopState {
  private(set) var runtime: UpstreamRuntime
  private(set) var endpoints: [EndpointState]
  private var nextRoundRobin = 0
  /// Retries under way to this upstream from this loop: the retry budget caps them.
  var retriesInFlight = 0

  init(runtime: UpstreamRuntime, make: (Upstream.Endpoint) -> EndpointState) {
    self.runtime = runtime
    self.endpoints = runtime.endpoints.map(make)
  }

  /// Follows a new configuration: endpoints that stay keep their pools and health; pool limits follow.
  func update(to runtime: UpstreamRuntime, make: (Upstream.Endpoint) -> EndpointState) {
    var kept: [String: EndpointState] = [:]
    for state in endpoints { kept[state.key] = state }
    endpoints = runtime.endpoints.map { endpoint in
      guard let state = kept.removeValue(forKey: EndpointState.key(endpoint)) else { return make(endpoint) }
      // A pool that speaks another protocol than the upstream now does is replaced.
      guard state.pool.speaksHTTP2 == runtime.speaksHTTP2 else {
        state.pool.retire()
        return make(endpoint)
      }
      state.pool.settings = runtime.pool
      state.pool.tls = runtime.tls(for: endpoint)
      return state
    }
    for state in kept.values { state.pool.retire() }
    self.runtime = runtime
    nextRoundRobin = 0
  }

  /// A retry may start while retries in flight stay under a fifth of the requests in flight (and at least
  /// three are always allowed), so that in an outage retries cannot multiply the load (Envoy's budget).
  /// `connectionPoolSettings.http.maxRetries` replaces the budget with a fixed number.
  var admitsRetry: Bool {
    if let maxRetries = runtime.pool.maxRetries { return retriesInFlight < maxRetries }
    let active = endpoints.reduce(0) { $0 + $1.pool.activeRequests }
    return retriesInFlight < max(3, active / 5)
  }

  /// An endpoint that is not ejected, chosen by the upstream's balancing policy; nil when none is left.
  /// Endpoints in `avoiding` (tried already) are passed over while another one is available.
  func pickEndpoint(now: NIODeadline, random: inout LoopRandom, avoiding: [EndpointState] = [])
    -> EndpointState?
  {
    let count = endpoints.count
    guard count > 0 else { return nil }
    func usable(_ endpoint: EndpointState) -> Bool {
      endpoint.isHealthy(now: now) && !avoiding.contains { $0 === endpoint }
    }
    if !avoiding.isEmpty, !endpoints.contains(where: usable) {
      return pickEndpoint(now: now, random: &random)
    }
    // Failover: only the closest priority that has a usable endpoint takes traffic. Endpoints are sorted by
    // priority, so the common case (one priority) looks at the first endpoint only.
    var priority = endpoints[0].endpoint.priority
    if endpoints[count - 1].endpoint.priority != priority {
      guard let first = endpoints.first(where: usable) else { return nil }
      priority = first.endpoint.priority
    }
    func usable(_ endpoint: EndpointState, at priority: Int) -> Bool {
      endpoint.endpoint.priority == priority && usable(endpoint)
    }
    switch runtime.balancing {
    case .roundRobin:
      for offset in 0..<count {
        let index = (nextRoundRobin + offset) % count
        if usable(endpoints[index], at: priority) {
          nextRoundRobin = (index + 1) % count
          return endpoints[index]
        }
      }
      return nil
    case .leastRequest:
      let candidates = endpoints.filter { usable($0, at: priority) }
      guard candidates.count > 1 else { return candidates.first }
      // Two different endpoints at random; the one with fewer requests in flight wins.
      let firstIndex = random.next(below: candidates.count)
      let secondIndex = (firstIndex + 1 + random.next(below: candidates.count - 1)) % candidates.count
      let (first, second) = (candidates[firstIndex], candidates[secondIndex])
      return second.pool.activeRequests < first.pool.activeRequests ? second : first
    }
  }

  /// Passive health: consecutive gateway errors or 5xx eject an endpoint for a while (longer each time), as
  /// long as no more than `maxEjectionPercent` of the upstream's endpoints are out. Returns true when the
  /// endpoint was ejected.
  func recordOutcome(of endpoint: EndpointState, failed: Bool, now: NIODeadline) -> Bool {
    guard let settings = runtime.outlier else { return false }
    guard failed else {
      endpoint.consecutiveFailures = 0
      return false
    }
    endpoint.consecutiveFailures += 1
    guard endpoint.consecutiveFailures >= settings.consecutiveErrors, endpoint.ejectedUntil <= now else {
      return false
    }
    let ejected = endpoints.filter { $0.ejectedUntil > now }.count
    guard (ejected + 1) * 100 <= settings.maxEjectionPercent * endpoints.count else { return false }
    endpoint.ejections += 1
    endpoint.ejectedUntil = now + settings.baseEjectionTime * Int64(endpoint.ejections)
    endpoint.consecutiveFailures = 0
    return true
  }
}

/// One endpoint of an upstream, on one event loop: its connection pool and its passive-health record.
final class EndpointState {
  let endpoint: Upstream.Endpoint
  let pool: ConnectionPool
  var consecutiveFailures = 0
  var ejections = 0
  var ejectedUntil = NIODeadline.uptimeNanoseconds(0)

  init(endpoint: Upstream.Endpoint, pool: ConnectionPool) {
    self.endpoint = endpoint
    self.pool = pool
  }

  var key: String { Self.key(endpoint) }

  static func key(_ endpoint: Upstream.Endpoint) -> String {
    "\(endpoint.address):\(endpoint.port)" + (endpoint.meshServerName.map { "|\($0)" } ?? "")
  }

  func isHealthy(now: NIODeadline) -> Bool { ejectedUntil <= now }
}
