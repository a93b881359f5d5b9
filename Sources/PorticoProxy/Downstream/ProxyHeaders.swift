import NIOHTTP1

/// Header rules of a forwarding proxy: hop-by-hop headers stop here, forwarding headers are added, and
/// header manipulation runs in its documented order.
enum ProxyHeaders {
  /// Connection-specific headers (RFC 9110 §7.6.1). Framing headers (content-length, transfer-encoding) are
  /// kept: the encoder on the other side re-frames the message from them.
  static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]

  /// The request head sent upstream.
  static func upstreamRequest(
    from head: HTTPRequestHead, uri: String, clientAddress: String, requestID: String,
    manipulations: [HeaderManipulation]
  ) -> HTTPRequestHead {
    var headers = head.headers
    removeHopByHop(from: &headers)
    if headers.contains(name: "expect") { headers.remove(name: "expect") }
    if headers.contains(name: "x-forwarded-for") {
      let forwarded = headers[canonicalForm: "x-forwarded-for"].joined(separator: ", ")
      headers.replaceOrAdd(name: "x-forwarded-for", value: forwarded + ", " + clientAddress)
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
    var headers = head.headers
    removeHopByHop(from: &headers)
    for manipulation in manipulations {
      apply(
        remove: manipulation.removeResponseHeaders, append: manipulation.appendResponseHeaders, to: &headers)
    }
    if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
    return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
  }

  /// Removes hop-by-hop headers and those `Connection` names. Most messages have none, and then nothing is
  /// copied or allocated.
  static func removeHopByHop(from headers: inout HTTPHeaders) {
    if headers.contains(name: "connection") {
      for value in headers[canonicalForm: "connection"] {
        let token = value.trimmingSpaces
        if !token.isEmpty, !token.equalsIgnoringASCIICase("close"),
          !token.equalsIgnoringASCIICase("keep-alive")
        {
          headers.remove(name: String(token))
        }
      }
    }
    for name in hopByHop where headers.contains(name: name) { headers.remove(name: name) }
  }

  /// Removal first, then appending: removing and appending one name sets it.
  static func apply(remove: [String]?, append: [String: String]?, to headers: inout HTTPHeaders) {
    for name in remove ?? [] { headers.remove(name: name) }
    for (name, value) in (append ?? [:]).sorted(by: { $0.key < $1.key }) {
      headers.add(name: name, value: value)
    }
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

extension Substring {
  /// Without leading and trailing spaces and tabs.
  var trimmingSpaces: Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
    else {
      return ""
    }
    return self[first...last]
  }
}
