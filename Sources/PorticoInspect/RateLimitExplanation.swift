import PorticoRateLimit
import PorticoRouting
import PorticoTranslate

/// What `explain` says of a route's rate limiting: the descriptors the request produces and the rules they
/// hit, without counting anything. The client address is taken as 127.0.0.1 (a tool sees no peer).
enum RateLimitExplanation {
  static func lines(for route: RouteConfig, request: PlainRequest) -> [String] {
    guard let config = route.rateLimit else { return [] }
    guard let limiter = try? RateLimiter(config) else {
      return ["the actions do not compile; every request is refused"]
    }
    let (descriptors, hits) = limiter.hits(
      for: ExplainedRequest(request: request), on: RateLimitRoute(config))
    var lines: [String] = []
    for list in descriptors.lists {
      lines.append("descriptor [" + list.map(\.description).joined(separator: ", ") + "]")
    }
    for set in descriptors.sets {
      lines.append("set {" + set.map(\.description).joined(separator: ", ") + "}")
    }
    if descriptors.lists.isEmpty, descriptors.sets.isEmpty {
      lines.append("no descriptor: an action yields no value for this request, so nothing limits it")
    }
    for hit in hits {
      let mode = hit.shadow ? ", shadow: counted, never refused" : ""
      lines.append(
        "rule \(hit.config) \(hit.rule): \(hit.limit.requestsPerUnit) per \(hit.limit.unit.rawValue)\(mode)")
    }
    if hits.isEmpty, !(descriptors.lists.isEmpty && descriptors.sets.isEmpty) {
      lines.append("no rule limits these descriptors")
    }
    return lines
  }
}

private struct ExplainedRequest: RateLimitRequest {
  let request: PlainRequest

  func header(_ name: String) -> String? {
    pseudoHeader(
      name, method: request.method, authority: request.authority, path: request.path, query: request.query)
      ?? request.headers.first { $0.name == name }.map(\.value)
  }

  var remoteAddress: String { "127.0.0.1" }
}
