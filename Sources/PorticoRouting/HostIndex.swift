/// Finds the virtual host for an authority: exact domains first, then `*.suffix` wildcards (longest
/// first), then `prefix.*` wildcards (longest first), then `*`. Case-insensitive; the port is ignored.
struct HostIndex: Sendable {
  private var exact: [Substring: Int] = [:]
  /// By suffix length, longest first; each maps the suffix (without `*`) to a host.
  private var suffixes: [(length: Int, hosts: [Substring: Int])] = []
  private var prefixes: [(length: Int, hosts: [Substring: Int])] = []
  private var catchAll: Int?

  init(_ hosts: [VirtualHostConfig]) {
    var suffixTable: [Int: [Substring: Int]] = [:]
    var prefixTable: [Int: [Substring: Int]] = [:]
    for (position, host) in hosts.enumerated() {
      for domain in host.domains {
        if domain == "*" {
          catchAll = catchAll ?? position
        } else if domain.hasPrefix("*") {
          let suffix = domain.dropFirst()
          if suffixTable[suffix.utf8.count, default: [:]][suffix] == nil {
            suffixTable[suffix.utf8.count, default: [:]][suffix] = position
          }
        } else if domain.hasSuffix("*") {
          let prefix = domain.dropLast()
          if prefixTable[prefix.utf8.count, default: [:]][prefix] == nil {
            prefixTable[prefix.utf8.count, default: [:]][prefix] = position
          }
        } else if exact[Substring(domain)] == nil {
          exact[Substring(domain)] = position
        }
      }
    }
    suffixes = suffixTable.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
    prefixes = prefixTable.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
  }

  func host(for authority: Substring) -> Int? {
    let name = Authority.host(of: authority)
    // Hosts arrive lowercase almost always; fold only when they do not.
    let folded =
      name.utf8.contains(where: { (0x41...0x5A).contains($0) }) ? Substring(name.asciiLowercased) : name
    if let position = exact[folded] { return position }
    let count = folded.utf8.count
    // A wildcard never matches an empty part: the host must be longer than the fixed part.
    for (length, hosts) in suffixes where length < count {
      let start = folded.utf8.index(folded.utf8.endIndex, offsetBy: -length)
      if let position = hosts[folded[start...]] { return position }
    }
    for (length, hosts) in prefixes where length < count {
      let end = folded.utf8.index(folded.utf8.startIndex, offsetBy: length)
      if let position = hosts[folded[..<end]] { return position }
    }
    return catchAll
  }

}
