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
    return RateLimitDecision(hits: hits, counts: store.increment(hits, at: now), now: now)
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

  private let hits: [RuleHit]
  /// The counts of `hits`, in order; empty when the store failed.
  private let counts: [UInt32]
  /// The store did not answer: the route's `denyOnFail` decides.
  public let storeFailed: Bool
  let now: Int64

  /// What `hits` come to with the store's `counts` (nil: the store failed).
  public init(hits: [RuleHit], counts: [UInt32]?, now: Int64) {
    self.hits = hits
    self.counts = counts ?? []
    storeFailed = counts == nil && !hits.isEmpty
    self.now = now
  }

  /// Rules over their limit that refuse (shadow rules only report).
  public var refusing: [Counted] { filter(\.refuses) }

  /// The first of them, without gathering the others (this runs per request).
  public var firstRefusing: Counted? { first(where: \.refuses) }

  /// Seconds until `counted`'s window ends.
  public func secondsLeft(for counted: Counted) -> Int64 { counted.hit.limit.unit.secondsLeft(at: now) }
}

/// A decision is the rules counted, each with its count, made as they are read rather than kept in an
/// array of their own (this runs per request).
extension RateLimitDecision: RandomAccessCollection {
  public var startIndex: Int { 0 }
  public var endIndex: Int { counts.count }
  public subscript(position: Int) -> Counted { Counted(hit: hits[position], count: counts[position]) }
}
