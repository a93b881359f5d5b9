import PorticoAPI
import PorticoTranslate

/// What rate-limit actions read from a request. The data plane's request types conform; tests use their own.
public protocol RateLimitRequest {
  /// The first value of a header (lowercase name), or of the pseudo-headers `:method`, `:path` (with the
  /// query) and `:authority`.
  func header(_ name: String) -> String?
  /// The TCP peer's address (or the client's, when the gateway is told how many proxy hops to trust).
  var remoteAddress: String { get }
  /// A value of the request's dynamic metadata: a filter's namespace, then a path of keys.
  func metadata(namespace: String, path: [String]) -> String?
}

extension RateLimitRequest {
  public func metadata(namespace: String, path: [String]) -> String? { nil }
}

/// The pseudo-headers `requestHeaders` actions read, from a request line: `:method`, `:authority`, and
/// `:path` with its query. Nil for any other name.
public func pseudoHeader(
  _ name: String, method: Substring, authority: Substring, path: Substring, query: Substring
) -> String? {
  switch name {
  case ":method": String(method)
  case ":authority": String(authority)
  case ":path": query.isEmpty ? String(path) : "\(path)?\(query)"
  default: nil
  }
}

/// What actions read from the gateway and the route rather than the request.
public struct RateLimitRoute: Hashable, Sendable {
  /// `sourceCluster`: the gateway's own name.
  public var sourceCluster: String
  /// `destinationCluster`: the upstream the route sends to.
  public var destinationCluster: String
  /// `metadata` with `source: ROUTE_ENTRY`: the route's metadata, by namespace and path.
  public var routeMetadata: [String: String]

  public init(sourceCluster: String, destinationCluster: String, routeMetadata: [String: String] = [:]) {
    self.sourceCluster = sourceCluster
    self.destinationCluster = destinationCluster
    self.routeMetadata = routeMetadata
  }
}

extension RateLimitRoute {
  /// What a route's resolved `rateLimit` says of the gateway and the route.
  public init(_ config: RateLimitConfig) {
    self.init(sourceCluster: config.sourceCluster, destinationCluster: config.destinationCluster)
  }
}

/// One entry of a descriptor: a key and the value the request gave it.
public struct DescriptorEntry: Hashable, Sendable, CustomStringConvertible {
  public let key: String
  public let value: String

  public init(key: String, value: String) {
    self.key = key
    self.value = value
  }

  public var description: String { "\(key)=\(value)" }
}

/// What one request produces: descriptors (ordered entries) and sets (unordered entries).
public struct RequestDescriptors: Hashable, Sendable {
  public var lists: [[DescriptorEntry]] = []
  public var sets: [[DescriptorEntry]] = []

  public init(lists: [[DescriptorEntry]] = [], sets: [[DescriptorEntry]] = []) {
    self.lists = lists
    self.sets = sets
  }
}
