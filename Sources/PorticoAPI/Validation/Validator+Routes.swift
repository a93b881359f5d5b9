extension Validator {
  mutating func check(virtualHost spec: VirtualHostSpec, at path: FieldPath) {
    let domains = spec.domains ?? []
    if domains.isEmpty { error(path.appending("domains"), "a virtual host needs at least one domain") }
    for (index, domain) in domains.enumerated() {
      if let problem = DomainPattern.problem(with: domain) {
        error(path.appending("domains").appending(index), problem)
      }
    }
    if spec.routes?.isEmpty ?? true {
      warning(path.appending("routes"), "no routes: this virtual host is ignored")
    }
    check(routes: spec.routes, at: path.appending("routes"))
    let options = path.appending("options")
    if let policy = spec.options?.trafficPolicy {
      check(policy: policy, at: options.appending("trafficPolicy"), isVirtualHostLevel: true)
    }
    if let invalidRoutePolicy = spec.options?.invalidRoutePolicy {
      let at = options.appending("invalidRoutePolicy")
      requireOne(invalidRoutePolicy.choiceCount, of: InvalidRoutePolicy.choiceNames, at: at)
      if let response = invalidRoutePolicy.directResponse {
        check(directResponse: response, at: at.appending("directResponse"))
      }
    }
  }

  mutating func check(routes: [Route]?, at path: FieldPath) {
    for (index, route) in (routes ?? []).enumerated() where !route.failedToDecode {
      check(route: route, at: path.appending(index))
    }
  }

  mutating func check(route: Route, at path: FieldPath) {
    requireOne(route.actionCount, of: Route.actionNames, at: path)
    check(labels: route.labels, at: path.appending("labels"))
    let matchers = route.matchers ?? []
    for (index, matcher) in matchers.enumerated() {
      check(matcher: matcher, at: path.appending("matchers").appending(index))
    }
    if let action = route.routeAction {
      check(routeAction: action, matchers: matchers, at: path.appending("routeAction"))
    }
    if let redirect = route.redirectAction {
      check(redirect: redirect, at: path.appending("redirectAction"))
    }
    if let response = route.directResponseAction {
      check(directResponse: response, at: path.appending("directResponseAction"))
    }
    if let delegate = route.delegateAction {
      check(delegate: delegate, matchers: matchers, at: path)
    }
    if let options = route.options {
      check(policy: options, at: path.appending("options"), isVirtualHostLevel: false)
    }
  }

  mutating func check(matcher: HTTPMatcher, at path: FieldPath) {
    if let uri = matcher.uri { check(uri, at: path.appending("uri")) }
    for (index, header) in (matcher.headers ?? []).enumerated() {
      let at = path.appending("headers").appending(index)
      if !HTTPToken.isValid(header.name) {
        error(at.appending("name"), "invalid header name '\(header.name)'")
      }
      if header.regex == true {
        if let value = header.value {
          compile(value, at: at.appending("value"))
        } else {
          error(at.appending("regex"), "regex: true needs a value")
        }
      }
    }
    for (index, parameter) in (matcher.queryParameters ?? []).enumerated() {
      let at = path.appending("queryParameters").appending(index)
      if parameter.name.isEmpty { error(at.appending("name"), "query parameter name must not be empty") }
      if parameter.regex == true {
        if let value = parameter.value {
          compile(value, at: at.appending("value"))
        } else {
          error(at.appending("regex"), "regex: true needs a value")
        }
      }
    }
    if let method = matcher.method, !HTTPToken.isValid(method) {
      error(path.appending("method"), "invalid method '\(method)'")
    }
  }

  mutating func check(routeAction: RouteAction, matchers: [HTTPMatcher], at path: FieldPath) {
    let destinations = routeAction.destinations ?? []
    if destinations.isEmpty {
      error(path.appending("destinations"), "a routeAction needs at least one destination")
    }
    for (index, destination) in destinations.enumerated() {
      check(destination: destination, at: path.appending("destinations").appending(index))
    }
    if routeAction.pathRewrite != nil,
      let index = matchers.firstIndex(where: { $0.uri?.regex != nil || $0.uri?.suffix != nil })
    {
      error(
        path.appending("pathRewrite"),
        "pathRewrite needs prefix or exact matchers; matchers[\(index)] is a \(matchers[index].uri?.regex != nil ? "regex" : "suffix")"
      )
    }
  }

  mutating func check(destination: WeightedDestination, at path: FieldPath) {
    requireOne(destination.kindCount, of: WeightedDestination.kindNames, at: path)
    if let headers = destination.options?.headerManipulation {
      check(headers: headers, at: path.appending("options").appending("headerManipulation"))
    }
  }

  mutating func check(redirect: RedirectAction, at path: FieldPath) {
    let fields = [
      ("hostRedirect", redirect.hostRedirect), ("pathRedirect", redirect.pathRedirect),
      ("prefixRewrite", redirect.prefixRewrite),
    ]
    for (field, value) in fields {
      if let value, !HTTPFieldValue.isValid(value) || value.contains(" ") {
        error(path.appending(field), "must not contain spaces or control characters")
      }
    }
    if redirect.pathRedirect != nil, redirect.prefixRewrite != nil {
      error(path, "give at most one of pathRedirect, prefixRewrite")
    }
    if let target = redirect.pathRedirect, !target.hasPrefix("/") {
      error(path.appending("pathRedirect"), "pathRedirect must start with '/'")
    }
    if let port = redirect.portRedirect, !(1...65535).contains(port) {
      error(path.appending("portRedirect"), "port must be between 1 and 65535")
    }
  }

  mutating func check(directResponse: DirectResponseAction, at path: FieldPath) {
    if !(100...599).contains(directResponse.status) {
      error(path.appending("status"), "status must be between 100 and 599")
    }
  }

  mutating func check(delegate: DelegateAction, matchers: [HTTPMatcher], at routePath: FieldPath) {
    let path = routePath.appending("delegateAction")
    if (delegate.refs ?? []).isEmpty, delegate.selector == nil {
      error(path, "give refs, a selector, or both")
    }
    check(selector: delegate.selector, at: path.appending("selector"))
    for (index, matcher) in matchers.enumerated() {
      guard let uri = matcher.uri, uri.kindCount == 1, uri.prefix == nil else { continue }
      error(
        routePath.appending("matchers").appending(index).appending("uri"),
        "a delegating route must match a path prefix")
    }
  }
}

/// Header field values: no CR, LF or NUL (they would split or end a header).
enum HTTPFieldValue {
  static func isValid(_ text: String) -> Bool {
    !text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
  }
}

/// RFC 9110 tokens: header names and methods.
enum HTTPToken {
  static func isValid(_ text: String) -> Bool {
    !text.isEmpty
      && text.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
          UInt8(ascii: "0")...UInt8(ascii: "9"):
          return true
        default:
          return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
      }
  }
}
