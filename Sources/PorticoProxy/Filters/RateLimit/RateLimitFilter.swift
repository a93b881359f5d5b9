import CoreMetrics
import Foundation
import PorticoAPI
import PorticoRateLimit
import PorticoTranslate

/// `rateLimit`: builds the request's descriptors, counts it against every rule they hit (refused or not, as
/// Envoy does), and answers 429 when an enforced rule is over its limit. Counts are kept in the gateway's
/// store; when it cannot answer, the request goes through unless `denyOnFail` says otherwise.
final class RateLimitFilter: ConfiguredFilter {
  let phases: FilterPhases = [.requestHead]
  private let config: RateLimitConfig
  /// Nil when the actions do not compile (validation reports it first): every request is refused.
  private let limiter: RateLimiter?
  private let route: RateLimitRoute

  static func settings(for route: RouteConfig) -> RateLimitConfig? { route.rateLimit }

  init(_ config: RateLimitConfig) {
    self.config = config
    limiter = (try? DescriptorBuilder(config.actions)).map { builder in
      RateLimiter(
        builder: builder,
        rules: RateLimitRuleSet(config.serverConfigs.map { .init(id: $0.id, rules: $0.rules) }))
    }
    route = RateLimitRoute(sourceCluster: config.sourceCluster, destinationCluster: config.destinationCluster)
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard let limiter else {
      return .answer(LocalAnswer(status: 500, body: "rate limit configuration error\n"))
    }
    let services = call.loop.services
    let now = Int64(Date().timeIntervalSince1970)
    let decision = limiter.decide(
      FilterCallRequest(call: call), on: route, store: services.rateLimitCounters, at: now)
    if decision.storeFailed {
      services.metrics.rateLimitStoreErrors.increment()
      guard config.denyOnFail else { return .proceed }
      return .answer(LocalAnswer(status: 429, body: "rate limited\n", flag: .rateLimitServiceError))
    }
    let metrics = call.loopState("ratelimit.metrics") { RateLimitSeries(factory: services.metrics.factory) }
    for counted in decision.counted {
      let outcome = !counted.isOver ? "allowed" : counted.hit.shadow ? "shadowed" : "refused"
      metrics.counter(config: counted.hit.config, rule: counted.hit.rule, outcome: outcome).increment()
    }
    guard let refusing = decision.refusing.first else { return .proceed }
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

  func header(_ name: String) -> String? {
    let request = call.request
    return pseudoHeader(
      name, method: request.method, authority: request.authority, path: request.path, query: request.query)
      ?? request.head.firstValue(named: name).map(String.init)
  }

  var remoteAddress: String { call.clientAddress }
}

/// `portico_ratelimit_requests_total{config,rule,outcome}`, one counter per series, kept per event loop so
/// that finding one takes no lock.
final class RateLimitSeries {
  private let factory: any MetricsFactory
  private var counters: [String: CoreMetrics.Counter] = [:]

  init(factory: any MetricsFactory) { self.factory = factory }

  func counter(config: String, rule: String, outcome: String) -> CoreMetrics.Counter {
    let key = config + "\u{1}" + rule + "\u{1}" + outcome
    if let counter = counters[key] { return counter }
    let counter = CoreMetrics.Counter(
      label: "portico_ratelimit_requests_total",
      dimensions: [("config", config), ("rule", rule), ("outcome", outcome)], factory: factory)
    counters[key] = counter
    return counter
  }
}
