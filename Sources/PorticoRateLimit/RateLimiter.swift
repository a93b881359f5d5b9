import PorticoAPI
import PorticoTranslate

/// A route's rate limiting, compiled: its actions and the rules of the configs it selects.
public struct RateLimiter: Sendable {
  public let builder: DescriptorBuilder
  public let rules: RateLimitRuleSet

  public init(builder: DescriptorBuilder, rules: RateLimitRuleSet) {
    self.builder = builder
    self.rules = rules
  }

  /// A route's resolved `rateLimit`, compiled; throws when an action's regex does not compile.
  public init(_ config: RateLimitConfig) throws(RE2Regex.CompileError) {
    self.init(
      builder: try DescriptorBuilder(config.actions),
      rules: RateLimitRuleSet(config.serverConfigs.map { .init(id: $0.id, rules: $0.rules) }))
  }

  /// The rules a request hits, without counting it (what `explain` shows).
  public func hits(for request: some RateLimitRequest, on route: RateLimitRoute) -> (
    descriptors: RequestDescriptors, hits: [RuleHit]
  ) {
    let descriptors = builder.descriptors(for: request, on: route)
    return (descriptors, rules.hits(for: descriptors))
  }

  /// Counts the request against every rule it hits, refused or not (Envoy's default), and decides.
  public func decide(
    _ request: some RateLimitRequest, on route: RateLimitRoute, store: some RateLimitCounterStore,
    at now: Int64
  ) -> RateLimitDecision {
    let hits = rules.hits(for: builder.descriptors(for: request, on: route))
    guard !hits.isEmpty else { return RateLimitDecision(hits: [], counts: [], now: now) }
    let counters = hits.map { WindowedCounter(counter: $0.counter, unit: $0.limit.unit) }
    return RateLimitDecision(hits: hits, counts: store.increment(counters, at: now), now: now)
  }
}

/// What counting a request found.
public struct RateLimitDecision: Sendable {
  public struct Counted: Sendable {
    public let hit: RuleHit
    /// The counter after this request.
    public let count: UInt32

    public var isOver: Bool { count > hit.limit.requestsPerUnit }
    public var refuses: Bool { isOver && !hit.shadow }
    public var remaining: UInt32 { hit.limit.requestsPerUnit > count ? hit.limit.requestsPerUnit - count : 0 }
  }

  public let counted: [Counted]
  /// The store did not answer: the route's `denyOnFail` decides.
  public let storeFailed: Bool
  let now: Int64

  /// What `hits` come to with the store's `counts` (nil: the store failed).
  public init(hits: [RuleHit], counts: [UInt32]?, now: Int64) {
    counted = counts.map { zip(hits, $0).map { Counted(hit: $0, count: $1) } } ?? []
    storeFailed = counts == nil && !hits.isEmpty
    self.now = now
  }

  /// Rules over their limit that refuse (shadow rules only report).
  public var refusing: [Counted] { counted.filter(\.refuses) }

  /// The first of them, without gathering the others (this runs per request).
  public var firstRefusing: Counted? { counted.first(where: \.refuses) }

  /// Seconds until `counted`'s window ends.
  public func secondsLeft(for counted: Counted) -> Int64 { counted.hit.limit.unit.secondsLeft(at: now) }
}
