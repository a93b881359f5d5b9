/// Rate-limit rules and actions: what decoding cannot check (one action kind per entry, keys unique at one
/// level, regexes that compile).
extension Validator {
  mutating func check(rateLimitServerConfig spec: RateLimitServerConfigSpec) {
    let at: FieldPath = ["spec", "raw"]
    guard let rules = spec.raw else {
      error(["spec"], "missing required field 'raw' (descriptors and setDescriptors)")
      return
    }
    if (rules.descriptors ?? []).isEmpty, (rules.setDescriptors ?? []).isEmpty {
      warning(at, "no descriptors and no setDescriptors: this config limits nothing")
    }
    check(descriptors: rules.descriptors ?? [], at: at.appending("descriptors"))
    for (index, rule) in (rules.setDescriptors ?? []).enumerated() {
      let path = at.appending("setDescriptors").appending(index)
      var keys = Set<String>()
      for (position, pair) in (rule.simpleDescriptors ?? []).enumerated() {
        let pairPath = path.appending("simpleDescriptors").appending(position)
        if pair.key.isEmpty { error(pairPath.appending("key"), "must not be empty") }
        if !keys.insert(pair.key).inserted {
          error(pairPath.appending("key"), "key '\(pair.key)' appears twice in one set-style rule")
        }
      }
      if rule.rateLimit == nil {
        error(path.appending("rateLimit"), "a set-style rule needs a rateLimit")
      }
    }
  }

  /// One level of a descriptor tree, then the levels below it.
  private mutating func check(descriptors: [RateLimitDescriptor], at path: FieldPath) {
    var seen: [String: Int] = [:]
    for (index, descriptor) in descriptors.enumerated() {
      let at = path.appending(index)
      if descriptor.key.isEmpty { error(at.appending("key"), "must not be empty") }
      let name = descriptor.value.map { "\(descriptor.key)=\($0)" } ?? descriptor.key
      if let first = seen[name] {
        error(
          at.appending("key"),
          "'\(name)' is already at this level (entry \(first)); a request could not tell the two apart")
      } else {
        seen[name] = index
      }
      check(descriptors: descriptor.descriptors ?? [], at: at.appending("descriptors"))
    }
  }

  mutating func check(rateLimitClientConfig spec: RateLimitClientConfigSpec) {
    guard let raw = spec.rateLimits?.raw else {
      error(["spec"], "missing required field 'rateLimits.raw'")
      return
    }
    check(actions: raw, at: ["spec", "rateLimits", "raw"])
  }

  /// `options.rateLimit` on a route or a virtual host.
  mutating func check(routeRateLimit limit: RouteRateLimit, at path: FieldPath) {
    if limit.ratelimitServerConfigSelector == nil {
      error(
        path.appending("ratelimitServerConfigSelector"),
        "missing: select the RateLimitServerConfigs whose rules apply")
    }
    requireOne(
      [limit.raw != nil, limit.ratelimitClientConfigRef != nil].filter { $0 }.count,
      of: ["raw", "ratelimitClientConfigRef"], at: path)
    if let raw = limit.raw { check(actions: raw, at: path.appending("raw")) }
  }

  private mutating func check(actions raw: RawActions, at path: FieldPath) {
    let lists = raw.rateLimits ?? []
    if lists.isEmpty {
      error(path.appending("rateLimits"), "give at least one entry of actions or setActions")
    }
    for (index, list) in lists.enumerated() {
      let at = path.appending("rateLimits").appending(index)
      if (list.actions ?? []).isEmpty, (list.setActions ?? []).isEmpty {
        error(at, "give actions, setActions, or both")
      }
      for (position, action) in (list.actions ?? []).enumerated() {
        check(action: action, at: at.appending("actions").appending(position))
      }
      for (position, action) in (list.setActions ?? []).enumerated() {
        check(action: action, at: at.appending("setActions").appending(position))
      }
    }
  }

  private mutating func check(action: RateLimitAction, at path: FieldPath) {
    let kinds: [(String, Bool)] = [
      ("sourceCluster", action.sourceCluster != nil),
      ("destinationCluster", action.destinationCluster != nil),
      ("requestHeaders", action.requestHeaders != nil), ("remoteAddress", action.remoteAddress != nil),
      ("genericKey", action.genericKey != nil), ("headerValueMatch", action.headerValueMatch != nil),
      ("metadata", action.metadata != nil),
    ]
    requireOne(kinds.filter(\.1).count, of: kinds.map(\.0), at: path)
    if let headers = action.requestHeaders {
      if headers.headerName.isEmpty {
        error(path.appending("requestHeaders").appending("headerName"), "must not be empty")
      }
      if headers.descriptorKey.isEmpty {
        error(path.appending("requestHeaders").appending("descriptorKey"), "must not be empty")
      }
    }
    if let match = action.headerValueMatch {
      let at = path.appending("headerValueMatch")
      if (match.headers ?? []).isEmpty { error(at.appending("headers"), "give at least one header matcher") }
      for (index, matcher) in (match.headers ?? []).enumerated() {
        check(headerMatcher: matcher, at: at.appending("headers").appending(index))
      }
    }
    if let metadata = action.metadata, let source = metadata.source, source != "DYNAMIC",
      source != "ROUTE_ENTRY"
    {
      error(path.appending("metadata").appending("source"), "must be DYNAMIC or ROUTE_ENTRY")
    }
  }

  private mutating func check(headerMatcher matcher: RateLimitHeaderMatcher, at path: FieldPath) {
    if matcher.name.isEmpty { error(path.appending("name"), "must not be empty") }
    let kinds = [
      matcher.exactMatch != nil, matcher.prefixMatch != nil, matcher.suffixMatch != nil,
      matcher.containsMatch != nil, matcher.safeRegexMatch != nil, matcher.regexMatch != nil,
      matcher.presentMatch != nil,
    ].filter { $0 }.count
    if kinds > 1 {
      error(
        path,
        "give at most one of exactMatch, prefixMatch, suffixMatch, containsMatch, safeRegexMatch, regexMatch, presentMatch"
      )
    }
    if let regex = matcher.safeRegexMatch?.regex {
      compile(regex, at: path.appending("safeRegexMatch").appending("regex"))
    }
    if let regex = matcher.regexMatch { compile(regex, at: path.appending("regexMatch")) }
  }
}
