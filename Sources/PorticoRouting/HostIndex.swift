/// Finds the virtual host for an authority: exact domains first, then `*.suffix` wildcards (longest
/// first), then `prefix.*` wildcards (longest first), then `*`. Case-insensitive; the port is ignored.
struct HostIndex: Sendable {
  private var exact: [String: Int] = [:]
  /// By suffix length, longest first; each maps the suffix (without `*`) to a host.
  private var suffixes: [(length: Int, hosts: [String: Int])] = []
  private var prefixes: [(length: Int, hosts: [String: Int])] = []
  private var catchAll: Int?

  init(_ hosts: [VirtualHostConfig]) {
    var suffixTable: [Int: [String: Int]] = [:]
    var prefixTable: [Int: [String: Int]] = [:]
    for (position, host) in hosts.enumerated() {
      for domain in host.domains {
        if domain == "*" {
          catchAll = catchAll ?? position
        } else if domain.hasPrefix("*") {
          let suffix = String(domain.dropFirst())
          if suffixTable[suffix.utf8.count, default: [:]][suffix] == nil {
            suffixTable[suffix.utf8.count, default: [:]][suffix] = position
          }
        } else if domain.hasSuffix("*") {
          let prefix = String(domain.dropLast())
          if prefixTable[prefix.utf8.count, default: [:]][prefix] == nil {
            prefixTable[prefix.utf8.count, default: [:]][prefix] = position
          }
        } else if exact[domain] == nil {
          exact[domain] = position
        }
      }
    }
    suffixes = suffixTable.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
    prefixes = prefixTable.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
  }

  func host(for authority: Substring) -> Int? {
    let name = Self.hostName(of: authority)
    let folded = name.utf8.contains(where: { (0x41...0x5A).contains($0) }) ? name.asciiLowercased : String(name)
    if let position = exact[folded] { return position }
    let count = folded.utf8.count
    // A wildcard never matches an empty part: the host must be longer than the fixed part.
    for (length, hosts) in suffixes where length < count {
      if let position = hosts[String(folded.utf8.suffix(length))!] { return position }
    }
    for (length, hosts) in prefixes where length < count {
      if let position = hosts[String(folded.utf8.prefix(length))!] { return position }
    }
    return catchAll
  }

  /// The authority without its port; IPv6 literals keep their brackets.
  static func hostName(of authority: Substring) -> Substring {
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { return authority }
      return authority[...close]
    }
    guard let colon = authority.lastIndex(of: ":") else { return authority }
    return authority[..<colon]
  }
}
