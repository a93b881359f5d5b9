import Foundation

/// A request target's query, as sent: `name=value` pairs joined by `&`.
enum QueryParameters {
  /// `query` without the pairs whose name (as written, before any decoding) is one of `names`, the others
  /// kept in order and byte for byte.
  static func removing(_ names: [String], from query: Substring) -> Substring {
    let kept = query.split(separator: "&", omittingEmptySubsequences: false).filter { pair in
      !names.contains { $0 == name(of: pair) }
    }
    return kept.joined(separator: "&")[...]
  }

  /// `query` with each of `pairs` in place of the client's pairs of that name (all of them), added at the
  /// end; names and values are percent-encoded as a query needs.
  static func setting(_ pairs: [(name: String, value: String)], in query: Substring) -> Substring {
    var text = String(removing(pairs.map { encoded($0.name) }, from: query))
    for pair in pairs {
      if !text.isEmpty { text += "&" }
      text += encoded(pair.name) + "=" + encoded(pair.value)
    }
    return text[...]
  }

  /// What a query keeps as it is: unreserved characters and the sub-delimiters that do not split pairs.
  private static let unencoded = CharacterSet(
    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,;:@/?")

  static func encoded(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unencoded) ?? ""
  }

  /// The value of the first pair named `name` that has a non-empty one (`name=value`), as written.
  static func value(named name: String, in query: Substring) -> Substring? {
    for pair in query.split(separator: "&") where self.name(of: pair) == name {
      guard let equals = pair.firstIndex(of: "="), pair.index(after: equals) < pair.endIndex else { continue }
      return pair[pair.index(after: equals)...]
    }
    return nil
  }

  /// A request target: the path, and the query after a `?` when there is one.
  static func target(path: Substring, query: Substring) -> Substring {
    query.isEmpty ? path : (path + "?" + query)[...]
  }

  private static func name(of pair: Substring) -> Substring {
    pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? pair
  }
}
