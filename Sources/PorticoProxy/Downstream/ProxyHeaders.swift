import Foundation
import NIOHTTP1

/// Header rules of a forwarding proxy: hop-by-hop headers stop here, forwarding headers are added, and
/// header manipulation runs in its documented order.
enum ProxyHeaders {
  /// Connection-specific headers (RFC 9110 §7.6.1). Framing headers (content-length, transfer-encoding) are
  /// kept: the encoder on the other side re-frames the message from them.
  static let hopByHop: Set<String> = [
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
  ]

  /// The request head sent upstream.
  static func upstreamRequest(
    from head: HTTPRequestHead, uri: String, clientAddress: String, requestID: String,
    manipulations: [HeaderManipulation]
  ) -> HTTPRequestHead {
    var headers = HTTPHeaders()
    headers.reserveCapacity(head.headers.count + 4)
    let named = connectionTokens(head.headers)
    for (name, value) in head.headers {
      let lowered = name.asciiLowercased
      if hopByHop.contains(lowered) || named.contains(lowered) || lowered == "expect" { continue }
      headers.add(name: name, value: value)
    }
    let forwarded = headers[canonicalForm: "x-forwarded-for"]
    if !forwarded.isEmpty {
      headers.replaceOrAdd(
        name: "x-forwarded-for", value: forwarded.joined(separator: ", ") + ", " + clientAddress)
    } else {
      headers.add(name: "x-forwarded-for", value: clientAddress)
    }
    headers.replaceOrAdd(name: "x-forwarded-proto", value: "http")
    if !headers.contains(name: "x-forwarded-host"), let host = head.headers.first(name: "host") {
      headers.add(name: "x-forwarded-host", value: host)
    }
    if !headers.contains(name: "x-request-id") { headers.add(name: "x-request-id", value: requestID) }
    if !headers.contains(name: "content-length"), !headers.contains(name: "transfer-encoding") {
      // No framing header means no body; say so, or the encoder would frame one as chunked.
      switch head.method {
      case .POST, .PUT, .PATCH: headers.add(name: "content-length", value: "0")
      default: break
      }
    }
    for manipulation in manipulations {
      apply(
        remove: manipulation.removeRequestHeaders, append: manipulation.appendRequestHeaders, to: &headers)
    }
    return HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
  }

  /// The response head returned to the client.
  static func downstreamResponse(
    from head: HTTPResponseHead, keepAlive: Bool, manipulations: [HeaderManipulation]
  ) -> HTTPResponseHead {
    var headers = HTTPHeaders()
    headers.reserveCapacity(head.headers.count + 1)
    let named = connectionTokens(head.headers)
    for (name, value) in head.headers {
      let lowered = name.asciiLowercased
      if hopByHop.contains(lowered) || named.contains(lowered) { continue }
      headers.add(name: name, value: value)
    }
    for manipulation in manipulations {
      apply(
        remove: manipulation.removeResponseHeaders, append: manipulation.appendResponseHeaders, to: &headers)
    }
    if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
    return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
  }

  /// Removal first, then appending: removing and appending one name sets it.
  static func apply(remove: [String]?, append: [String: String]?, to headers: inout HTTPHeaders) {
    for name in remove ?? [] { headers.remove(name: name) }
    for (name, value) in (append ?? [:]).sorted(by: { $0.key < $1.key }) {
      headers.add(name: name, value: value)
    }
  }

  /// Header names listed in `Connection`, which are hop-by-hop too.
  static func connectionTokens(_ headers: HTTPHeaders) -> Set<String> {
    var tokens: Set<String> = []
    for value in headers[canonicalForm: "connection"] {
      let token = value.trimmingCharacters(in: .whitespaces).lowercased()
      if token != "close", token != "keep-alive" { tokens.insert(token) }
    }
    return tokens
  }
}

extension RouteConfig {
  /// Header manipulations for a request, farthest level first, then the chosen destination's.
  func requestManipulations(destination: HeaderManipulation?) -> [HeaderManipulation] {
    options.headerManipulations.map(\.manipulation) + (destination.map { [$0] } ?? [])
  }

  /// Header manipulations for a response: the destination's first, then the route's levels, nearest first.
  func responseManipulations(destination: HeaderManipulation?) -> [HeaderManipulation] {
    (destination.map { [$0] } ?? []) + options.headerManipulations.reversed().map(\.manipulation)
  }
}
