import PorticoTranslate

/// A route's filters in the order they run for requests (responses go through them in reverse), built once
/// per configuration. A route without filters has none of these: its requests pay one nil check for the
/// whole layer.
final class RequestFilters: Sendable {
  private let filters: [any HTTPFilter]
  /// The largest body a filter may make the layer keep whole (`.buffer`); past it, 413.
  let bodyBound: BodyBound
  /// Filters with a log hook, in order.
  let log: [any HTTPFilter]
  /// Some filter may change the request body's length: what goes upstream is framed anew.
  let rewritesRequestBody: Bool
  /// Some filter may change the response body's length.
  let rewritesResponseBody: Bool
  /// Some filter has a response hook. Without one, responses go straight to the client.
  let seesResponses: Bool
  /// Some filter has a request body hook. Without one, the body goes straight upstream once the head has
  /// passed.
  let seesRequestBody: Bool

  init(_ filters: [any HTTPFilter], bodyBound: BodyBound) {
    self.filters = filters
    self.bodyBound = bodyBound
    log = filters.filter { $0.phases.contains(.log) }
    rewritesRequestBody = filters.contains { $0.phases.contains(.rewritesRequestBody) }
    rewritesResponseBody = filters.contains { $0.phases.contains(.rewritesResponseBody) }
    seesResponses = filters.contains {
      !$0.phases.isDisjoint(with: [.responseHead, .responseBody, .rewritesResponseBody])
    }
    seesRequestBody = filters.contains { !$0.phases.isDisjoint(with: [.requestBody, .rewritesRequestBody]) }
  }

  var count: Int { filters.count }
  subscript(index: Int) -> any HTTPFilter { filters[index] }
}

/// Every filter family, in the order their filters run. Adding a family is one line here.
enum FilterRegistry {
  static let families: [any ConfiguredFilter.Type] = [
    // First on the way in, so that its access-log masking holds whoever answers; last on the way out, so
    // that it masks the body as it leaves (after the WAF has inspected it as the upstream sent it).
    DLPFilter.self,
    CORSFilter.self,
    BodyLimitFilter.self,
    CSRFFilter.self,
    FaultFilter.self,
    EarlyTransformationFilter.self,
    WAFFilter.self,
    ExtAuthFilter.self,
    RateLimitFilter.self,
    TransformationFilter.self,
  ]
}

/// Builds routes' filters for one configuration: a filter per distinct setting, a chain per distinct list
/// of filters, each shared by every route that has the same. Used while a configuration is built, on one
/// thread.
final class FilterBuilder {
  private let families: [any ConfiguredFilter.Type]
  private var filters: [FilterKey: any HTTPFilter] = [:]
  private var chains: [Chain: RequestFilters] = [:]

  private struct Chain: Hashable {
    let filters: [ObjectIdentifier]
    let bound: BodyBound
  }

  private struct FilterKey: Hashable {
    let family: ObjectIdentifier
    let settings: AnyHashable
  }

  private let environment: FilterEnvironment

  init(
    families: [any ConfiguredFilter.Type] = FilterRegistry.families, environment: FilterEnvironment = .init()
  ) {
    self.families = families
    self.environment = environment
  }

  /// The filters a route asks for; nil when it asks for none.
  func filters(for route: RouteConfig) -> RequestFilters? {
    var chain: [any HTTPFilter] = []
    for family in families {
      if let filter = filter(of: family, for: route) { chain.append(filter) }
    }
    guard !chain.isEmpty else { return nil }
    let bound = BodyBound(route: route.options.values)
    let key = Chain(filters: chain.map { ObjectIdentifier($0) }, bound: bound)
    if let shared = chains[key] { return shared }
    let built = RequestFilters(chain, bodyBound: bound)
    chains[key] = built
    return built
  }

  private func filter<Family: ConfiguredFilter>(of family: Family.Type, for route: RouteConfig)
    -> (any HTTPFilter)?
  {
    guard let settings = Family.settings(for: route) else { return nil }
    let key = FilterKey(family: ObjectIdentifier(family), settings: AnyHashable(settings))
    if let shared = filters[key] { return shared }
    let made = Family(settings, gateway: environment)
    filters[key] = made
    return made
  }
}
