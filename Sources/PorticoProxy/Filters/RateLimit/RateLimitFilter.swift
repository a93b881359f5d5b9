import CoreMetrics
import Foundation
import NIOCore
import PorticoAPI
import PorticoRateLimit
import PorticoRedis
import PorticoTranslate

/// `rateLimit`: builds the request's descriptors, counts it against every rule they hit (refused or not, as
/// Envoy does), and answers 429 when an enforced rule is over its limit. Counts are kept in the gateway's
/// memory, or in the Redis every gateway shares (the request waits, suspended, for its loop turn's batch:
/// one round trip per node, at most `requestTimeout`); when the store cannot answer, the request goes through unless
/// `denyOnFail` says otherwise.
final class RateLimitFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead]
  private let config: RateLimitConfig
  /// Nil when the actions do not compile (validation reports it first): every request is refused.
  private let limiter: RateLimiter?
  private let route: RateLimitRoute
  private let ruleCount: Int
  /// Where this filter's metric counters are kept on each loop: shared by every filter (before and after
  /// reloads) whose rules carry the same labels.
  private let metricsKey: LoopStateKey
  private static let redisClientKey = LoopStateKey("ratelimit.redis")

  static func settings(for route: RouteConfig) -> RateLimitConfig? { route.rateLimit }

  init(_ config: RateLimitConfig) {
    self.config = config
    limiter = try? RateLimiter(config)
    route = RateLimitRoute(config)
    ruleCount = limiter?.rules.ruleCount ?? 0
    metricsKey = RateLimitSeries.stateKey(for: limiter?.rules.labels ?? [])
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard let limiter else {
      return .answer(LocalAnswer(status: 500, body: "rate limit configuration error\n"))
    }
    let services = call.loop.services
    let now = Int64(Date().timeIntervalSince1970)
    let request = FilterCallRequest(call: call)
    guard let shared = services.rateLimitStore else {
      let metrics = series(call)
      let decision = limiter.decide(request, on: route, store: services.rateLimitCounters, at: now) {
        metrics.record($0)
      }
      return verdict(decision, call)
    }
    let hits = limiter.hits(for: request, on: route).hits
    guard !hits.isEmpty else { return .proceed }
    let keys = hits.map { hit in
      (
        key: WindowedCounter(counter: hit.counter, unit: hit.limit.unit).sharedKey(at: now),
        ttl: hit.limit.unit.seconds
      )
    }
    let client = call.loopState(Self.redisClientKey) {
      RedisLoopClient(configuration: shared, eventLoop: call.loop.eventLoop)
    }
    let timeout = TimeAmount.nanoseconds(config.requestTimeout?.nanoseconds ?? 100_000_000)
    // A store in back-off answers at once, before this returns: then there is nothing to wait for.
    let waiting = Waiting()
    client.increment(keys, timeout: timeout) { result in
      let counts = try? result.get().map { UInt32(clamping: $0) }
      let metrics = self.series(call)
      let decision = RateLimitDecision(hits: hits, counts: counts, now: now) { metrics.record($0) }
      let verdict = self.verdict(decision, call)
      guard let resume = waiting.resume else {
        waiting.verdict = verdict
        return
      }
      switch verdict {
      case .answer(let answer): resume.answer(answer)
      default: resume.proceed()
      }
    }
    if let verdict = waiting.verdict { return verdict }
    waiting.resume = call.suspend()
    return .suspend
  }

  /// How a store's answer reaches the request: directly when it came before `requestHead` returned, through
  /// the suspension handle after.
  private final class Waiting {
    var verdict: FilterVerdict?
    var resume: FilterResume?
  }

  /// This filter's metric series on the request's loop.
  private func series(_ call: FilterCall) -> RateLimitSeries {
    call.loopState(metricsKey) {
      RateLimitSeries(factory: call.loop.services.metrics.factory, rules: ruleCount)
    }
  }

  /// What a decision comes to: 429 when an enforced rule is over its limit (or the store failed and
  /// `denyOnFail` is set).
  private func verdict(_ decision: RateLimitDecision, _ call: FilterCall) -> FilterVerdict {
    if decision.storeFailed {
      call.loop.services.metrics.rateLimitStoreErrors.increment()
      guard config.denyOnFail else { return .proceed }
      return .answer(LocalAnswer(status: 429, body: "rate limited\n", flag: .rateLimitServiceError))
    }
    guard let refusing = decision.firstRefusing else { return .proceed }
    let reset = String(decision.secondsLeft(for: refusing))
    return .answer(
      LocalAnswer(
        status: 429, body: "rate limited\n",
        fields: [
          ("x-ratelimit-limit", String(refusing.hit.limit.requestsPerUnit)),
          ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset), ("retry-after", reset),
        ],
        flag: .rateLimited))
  }
}

/// What rate-limit actions read, from the request as the gateway received it.
private struct FilterCallRequest: RateLimitRequest {
  let call: FilterCall

  /// A header as the request carries it past the filters before this one: a header external auth set
  /// (the caller's identity, a plan from their key's Secret) replaces what the client sent, as Envoy's
  /// rate-limit filter sees the headers its ext_authz filter adds.
  func header(_ name: String) -> String? {
    let request = call.request
    if let pseudo = pseudoHeader(
      name, method: request.method, authority: request.authority, path: request.path, query: request.query)
    {
      return pseudo
    }
    let edits = call.upstreamHeaders
    if let set = edits.added.first(where: { $0.name.equalsIgnoringASCIICase(name) }) { return set.value }
    if edits.removes(name) { return nil }
    return request.head.firstValue(named: name).map(String.init)
  }

  /// The TCP peer, unless the gateway trusts proxy hops in front of it: then the entry of
  /// `X-Forwarded-For` that many hops from the right (Envoy's `xff_num_trusted_hops`). A header with fewer
  /// entries leaves the peer.
  var remoteAddress: String {
    let hops = call.loop.services.trustedProxyHops
    guard hops > 0, let header = call.request.head.firstValue(named: "x-forwarded-for") else {
      return call.clientAddress
    }
    let entries = header.split(separator: ",")
    guard entries.count >= hops else { return call.clientAddress }
    return entries[entries.count - hops].trimmingCharacters(in: .whitespaces)
  }
}

/// `portico_ratelimit_requests_total{config,rule,outcome}`, one counter per rule and outcome, found by the
/// rule's number: kept per filter and event loop, so that counting takes no lock and hashes nothing.
final class RateLimitSeries {
  enum Outcome: Int, CaseIterable {
    case allowed, refused, shadowed
  }

  private let factory: any MetricsFactory
  private var counters: [CoreMetrics.Counter?]

  /// The loop-state key for rules with these labels: the same labels always give the same key in this
  /// process, so a reload finds its series again instead of adding new ones on every loop.
  static func stateKey(for labels: [(config: String, rule: String)]) -> LoopStateKey {
    LoopStateKey(
      "ratelimit.metrics\u{2}" + labels.map { "\($0.config)\u{1}\($0.rule)" }.joined(separator: "\u{2}"))
  }

  init(factory: any MetricsFactory, rules: Int) {
    self.factory = factory
    counters = Array(repeating: nil, count: rules * Outcome.allCases.count)
  }

  /// Counts a rule's outcome for one request.
  func record(_ counted: RateLimitDecision.Counted) {
    counter(for: counted.hit, !counted.isOver ? .allowed : counted.hit.shadow ? .shadowed : .refused)
      .increment()
  }

  private func counter(for hit: RuleHit, _ outcome: Outcome) -> CoreMetrics.Counter {
    let slot = hit.index * Outcome.allCases.count + outcome.rawValue
    if let counter = counters[slot] { return counter }
    let counter = CoreMetrics.Counter(
      label: "portico_ratelimit_requests_total",
      dimensions: [("config", hit.config), ("rule", hit.rule), ("outcome", "\(outcome)")], factory: factory)
    counters[slot] = counter
    return counter
  }
}
