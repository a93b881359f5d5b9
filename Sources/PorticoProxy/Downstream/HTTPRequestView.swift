import NIOHTTP1

/// The router's view of a NIO request head, read in place: no header copies.
struct HTTPRequestView: RequestView {
  let head: HTTPRequestHead

  init(_ head: HTTPRequestHead) { self.head = head }

  var authority: Substring { Substring(head.headers.first(name: "host") ?? "") }
  var method: Substring { Substring(head.method.rawValue) }

  var path: Substring {
    let uri = head.uri[...]
    guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return uri }
    return uri[..<mark]
  }

  var query: Substring {
    let uri = head.uri[...]
    guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
    return uri[uri.index(after: mark)...]
  }

  func containsHeader(_ lowercasedName: String, where body: (Substring) -> Bool) -> Bool {
    for (name, value) in head.headers where name.equalsIgnoringASCIICase(lowercasedName) {
      if body(Substring(value)) { return true }
    }
    return false
  }
}
