import PorticoAPI
import PorticoRouting

/// Builds `Location` for a `redirectAction` (spec §4.2). With only `responseCode` set, scheme, host and path
/// are kept.
enum Redirects {
  static func location(
    for redirect: RedirectAction, request view: some RequestView, scheme requestScheme: String,
    pathMatch: RouteRuntime.PathMatch
  ) -> String {
    let authority = view.authority
    let (originalHost, originalPort) = split(authority)
    let scheme = redirect.httpsRedirect == true ? "https" : requestScheme
    let host = redirect.hostRedirect.map { split(Substring($0)).host } ?? originalHost
    var port: Substring? = originalPort
    if let explicit = redirect.hostRedirect.flatMap({ split(Substring($0)).port }) { port = explicit }
    if redirect.httpsRedirect == true { port = nil }
    if let portRedirect = redirect.portRedirect { port = Substring(String(portRedirect)) }
    var path = String(view.path)
    var query = view.query.isEmpty ? nil : String(view.query)
    if let target = redirect.pathRedirect {
      if let mark = target.firstIndex(of: "?") {
        path = String(target[..<mark])
        query = String(target[target.index(after: mark)...])
      } else {
        path = target
      }
    } else if let prefix = redirect.prefixRewrite {
      path =
        pathMatch.isExact
        ? prefix
        : PathRewriting.replacePrefix(of: view.path, matchedLength: pathMatch.literalLength, with: prefix)
    }
    if redirect.stripQuery == true { query = nil }
    let authorityPart = port.map { "\(host):\($0)" } ?? String(host)
    return "\(scheme)://\(authorityPart)\(path)" + (query.map { "?\($0)" } ?? "")
  }

  /// Host and port of an authority; IPv6 literals keep their brackets.
  static func split(_ authority: Substring) -> (host: Substring, port: Substring?) {
    let host = Authority.host(of: authority)
    guard host.endIndex < authority.endIndex else { return (host, nil) }
    return (host, authority[authority.index(after: host.endIndex)...])
  }
}
