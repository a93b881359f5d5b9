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

  /// Counts the request against every rule it hits, refused or not (Envoy's default), hands each count to
  /// `counted` (metrics) as it is made, and decides.
  public func decide(
    _ request: some RateLimitRequest, on route: RateLimitRoute, store: some RateLimitCounterStore,
    at now: Int64, counted: (RateLimitDecision.Counted) -> Void = { _ in }
  ) -> RateLimitDecision {
    var decision = RateLimitDecision(now: now)
    rules.forEachHit(for: builder.descriptors(for: request, on: route)) { hit in
      guard !decision.storeFailed else { return }
      guard let count = store.increment(hit, at: now) else { return decision.storeFailed = true }
      decision.add(.init(hit: hit, count: count), counted)
    }
    return decision
  }
}

/// What counting a request found: the first rule that refuses it, if any. The counts themselves go to the
/// caller one by one rather than into an array (this runs per request).
public struct RateLimitDecision: Sendable {
  public struct Counted: Sendable {
    public let hit: RuleHit
    /// The counter after this request.
    public let count: UInt32

    public var isOver: Bool { count > hit.limit.requestsPerUnit }
    public var refuses: Bool { isOver && !hit.shadow }
    public var remaining: UInt32 { hit.limit.requestsPerUnit > count ? hit.limit.requestsPerUnit - count : 0 }
  }

  /// The first rule over its limit that refuses (shadow rules only report).
  public private(set) var firstRefusing: Counted?
  /// The store did not answer: the route's `denyOnFail` decides.
  public fileprivate(set) var storeFailed = false
  let now: Int64

  init(now: Int64) { self.now = now }

  /// What `hits` come to with a shared store's `counts`, in the same order (nil: the store failed); each
  /// count goes to `counted`.
  public init(
    hits: [RuleHit], counts: [UInt32]?, now: Int64, counted: (Counted) -> Void = { _ in }
  ) {
    self.now = now
    guard let counts else {
      storeFailed = !hits.isEmpty
      return
    }
    for (hit, count) in zip(hits, counts) { add(Counted(hit: hit, count: count), counted) }
  }

  fileprivate mutating func add(_ rule: Counted, _ counted: (Counted) -> Void) {
    counted(rule)
    if firstRefusing == nil, rule.refuses { firstRefusing = rule }
  }

  /// Seconds until `counted`'s window ends.
  public func secondsLeft(for counted: Counted) -> Int64 { counted.hit.limit.unit.secondsLeft(at: now) }
}
