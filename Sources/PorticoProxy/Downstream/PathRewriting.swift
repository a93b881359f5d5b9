/// Path rewrites that never leave `//` at the seam (segment-aware, as Gateway API's ReplacePrefixMatch):
/// prefix `/api/v1` rewritten to `/` turns `/api/v1/items` into `/items`, and `/api/v1` into `/`.
enum PathRewriting {
  /// `path` with its first `matchedLength` bytes replaced by `replacement`.
  static func replacePrefix(of path: Substring, matchedLength: Int, with replacement: String) -> String {
    let bytes = path.utf8
    let split = bytes.index(bytes.startIndex, offsetBy: min(matchedLength, bytes.count))
    let matched = path[..<split]
    let rest = path[split...]
    if rest.isEmpty { return replacement.isEmpty ? "/" : replacement }
    if replacement.isEmpty { return rest.hasPrefix("/") ? String(rest) : "/" + rest }
    switch (replacement.hasSuffix("/"), rest.hasPrefix("/")) {
    case (true, true): return replacement + rest.dropFirst()
    case (false, false) where matched.hasSuffix("/"): return replacement + "/" + rest
    default: return replacement + rest
    }
  }
}
