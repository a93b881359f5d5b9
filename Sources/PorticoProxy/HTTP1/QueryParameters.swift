/// A request target's query, as sent: `name=value` pairs joined by `&`.
enum QueryParameters {
  /// `query` without the pairs whose name (as written, before any decoding) is one of `names`, the others
  /// kept in order and byte for byte.
  static func removing(_ names: [String], from query: Substring) -> Substring {
    let kept = query.split(separator: "&", omittingEmptySubsequences: false).filter { pair in
      let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? pair
      return !names.contains { $0 == name }
    }
    return kept.joined(separator: "&")[...]
  }
}
