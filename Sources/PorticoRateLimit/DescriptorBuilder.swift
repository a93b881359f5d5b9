import PorticoAPI

/// Turns a request into descriptors, as Envoy's rate-limit filter does: each `actions` list gives one
/// descriptor, dropped whole when an action yields no value; each `setActions` list gives one set, without
/// the entries whose action yields no value (Gloo's behaviour). Compiled once per configuration: regexes
/// are compiled here, not per request.
public struct DescriptorBuilder: Sendable {
  private let lists: [[CompiledAction]]
  private let sets: [[CompiledAction]]

  public init(_ actions: [RateLimitActions]) throws(RE2Regex.CompileError) {
    var lists: [[CompiledAction]] = []
    var sets: [[CompiledAction]] = []
    for entry in actions {
      if let list = entry.actions, !list.isEmpty { lists.append(try list.map(CompiledAction.init)) }
      if let set = entry.setActions, !set.isEmpty { sets.append(try set.map(CompiledAction.init)) }
    }
    self.lists = lists
    self.sets = sets
  }

  public func descriptors(for request: some RateLimitRequest, on route: RateLimitRoute) -> RequestDescriptors
  {
    var result = RequestDescriptors()
    result.lists.reserveCapacity(lists.count)
    lists: for list in lists {
      var entries: [DescriptorEntry] = []
      entries.reserveCapacity(list.count)
      for action in list {
        guard let entry = action.entry(for: request, on: route) else { continue lists }
        entries.append(entry)
      }
      result.lists.append(entries)
    }
    for set in sets {
      result.sets.append(set.compactMap { $0.entry(for: request, on: route) })
    }
    return result
  }
}

/// One action, ready to read a request.
enum CompiledAction: Sendable {
  case sourceCluster
  case destinationCluster
  case requestHeader(name: String, key: String)
  case remoteAddress
  case generic(key: String, value: String)
  case headerValueMatch(key: String, value: String, expectMatch: Bool, headers: [CompiledHeaderMatcher])
  case metadata(key: String, namespace: String, path: [String], defaultValue: String?, fromRoute: Bool)
  /// An entry with no kind (validation reports it): yields no value.
  case none

  init(_ action: RateLimitAction) throws(RE2Regex.CompileError) {
    if action.sourceCluster != nil {
      self = .sourceCluster
    } else if action.destinationCluster != nil {
      self = .destinationCluster
    } else if let headers = action.requestHeaders {
      self = .requestHeader(name: headers.headerName.asciiLowercased, key: headers.descriptorKey)
    } else if action.remoteAddress != nil {
      self = .remoteAddress
    } else if let generic = action.genericKey {
      self = .generic(key: generic.descriptorKey ?? "generic_key", value: generic.descriptorValue)
    } else if let match = action.headerValueMatch {
      var headers: [CompiledHeaderMatcher] = []
      for matcher in match.headers ?? [] { headers.append(try CompiledHeaderMatcher(matcher)) }
      self = .headerValueMatch(
        key: match.descriptorKey ?? "header_match", value: match.descriptorValue,
        expectMatch: match.expectMatch ?? true, headers: headers)
    } else if let metadata = action.metadata {
      self = .metadata(
        key: metadata.descriptorKey, namespace: metadata.metadataKey.key,
        path: (metadata.metadataKey.path ?? []).map(\.key), defaultValue: metadata.defaultValue,
        fromRoute: metadata.source == "ROUTE_ENTRY")
    } else {
      self = .none
    }
  }

  func entry(for request: some RateLimitRequest, on route: RateLimitRoute) -> DescriptorEntry? {
    switch self {
    case .sourceCluster:
      return DescriptorEntry(key: "source_cluster", value: route.sourceCluster)
    case .destinationCluster:
      return DescriptorEntry(key: "destination_cluster", value: route.destinationCluster)
    case .requestHeader(let name, let key):
      return request.header(name).map { DescriptorEntry(key: key, value: $0) }
    case .remoteAddress:
      return DescriptorEntry(key: "remote_address", value: request.remoteAddress)
    case .generic(let key, let value):
      return DescriptorEntry(key: key, value: value)
    case .headerValueMatch(let key, let value, let expectMatch, let headers):
      let matches = headers.allSatisfy { $0.matches(request) }
      return matches == expectMatch ? DescriptorEntry(key: key, value: value) : nil
    case .metadata(let key, let namespace, let path, let defaultValue, let fromRoute):
      let found =
        fromRoute
        ? route.value(namespace: namespace, path: path)
        : request.metadata(namespace: namespace, path: path)
      return (found.flatMap { $0.isEmpty ? nil : $0 } ?? defaultValue).map {
        DescriptorEntry(key: key, value: $0)
      }
    case .none:
      return nil
    }
  }
}

extension RateLimitRoute {
  /// The route's metadata at `namespace` then `path`, keyed `namespace.key.key`.
  func value(namespace: String, path: [String]) -> String? {
    routeMetadata[([namespace] + path).joined(separator: ".")]
  }
}

/// Envoy's header matcher: a value test on the first value of a header, or its presence; inverted on
/// request.
struct CompiledHeaderMatcher: Sendable {
  enum Test: Sendable {
    case exact(String)
    case prefix(String)
    case suffix(String)
    case contains(String)
    case regex(RE2Regex)
    case present(Bool)
  }

  let name: String
  let test: Test
  let inverted: Bool

  init(_ matcher: RateLimitHeaderMatcher) throws(RE2Regex.CompileError) {
    name = matcher.name.asciiLowercased
    inverted = matcher.invertMatch ?? false
    if let exact = matcher.exactMatch {
      test = .exact(exact)
    } else if let prefix = matcher.prefixMatch {
      test = .prefix(prefix)
    } else if let suffix = matcher.suffixMatch {
      test = .suffix(suffix)
    } else if let contains = matcher.containsMatch {
      test = .contains(contains)
    } else if let regex = matcher.safeRegexMatch?.regex ?? matcher.regexMatch {
      test = .regex(try RE2Regex(regex))
    } else {
      test = .present(matcher.presentMatch ?? true)
    }
  }

  /// Envoy's rules, absent headers included: an absent header matches only `presentMatch: false`, or,
  /// inverted, any value test.
  func matches(_ request: some RateLimitRequest) -> Bool {
    guard let value = request.header(name) else {
      if case .present(let wanted) = test { return inverted ? false : !wanted }
      return inverted
    }
    let result: Bool
    switch test {
    case .present(let wanted): result = wanted
    case .exact(let text): result = value == text
    case .prefix(let text): result = value.hasPrefix(text)
    case .suffix(let text): result = value.hasSuffix(text)
    case .contains(let text): result = value.contains(text)
    case .regex(let regex): result = regex.matchesWhole(value)
    }
    return result != inverted
  }
}
