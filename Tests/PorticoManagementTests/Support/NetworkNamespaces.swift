import Foundation

/// Network namespaces for tests that cross a network: each cluster gets one, joined to the test's own
/// namespace by a bridge, so that every address is reachable from the test and traffic between clusters
/// really leaves one namespace for another. Made by the test and removed by it.
final class NetworkNamespaces: @unchecked Sendable {
  /// A namespace and its address on the bridge.
  struct Host {
    let namespace: String
    let address: String
  }

  let bridgeAddress: String
  private(set) var hosts: [Host] = []
  private let suffix: String
  private let bridge: String
  private let subnet: Int

  /// Creates the bridge, or throws when the kernel (or the sandbox) refuses.
  init() throws {
    suffix = String(UUID().uuidString.prefix(4)).lowercased()
    bridge = "ptb\(suffix)"
    subnet = Int.random(in: 100...250)
    bridgeAddress = "10.\(subnet).0.1"
    try Self.run(["link", "add", bridge, "type", "bridge"])
    try Self.run(["addr", "add", "\(bridgeAddress)/24", "dev", bridge])
    try Self.run(["link", "set", bridge, "up"])
  }

  /// Adds a namespace with one veth into the bridge; returns it.
  func add(_ name: String) throws -> Host {
    let index = hosts.count + 2
    let namespace = "pt\(suffix)\(name)"
    let outside = "pv\(suffix)\(index)a"
    let inside = "pv\(suffix)\(index)b"
    let address = "10.\(subnet).0.\(index)"
    try Self.run(["netns", "add", namespace])
    let host = Host(namespace: namespace, address: address)
    hosts.append(host)
    try Self.run(["link", "add", outside, "type", "veth", "peer", "name", inside])
    try Self.run(["link", "set", outside, "master", bridge])
    try Self.run(["link", "set", outside, "up"])
    try Self.run(["link", "set", inside, "netns", namespace])
    try Self.run(["-n", namespace, "addr", "add", "\(address)/24", "dev", inside])
    try Self.run(["-n", namespace, "link", "set", inside, "up"])
    try Self.run(["-n", namespace, "link", "set", "lo", "up"])
    return host
  }

  /// Removes every namespace (their veths go with them) and the bridge.
  func remove() {
    for host in hosts { try? Self.run(["netns", "del", host.namespace]) }
    hosts = []
    try? Self.run(["link", "del", bridge])
  }

  deinit { remove() }

  private static func run(_ arguments: [String]) throws { try runTool("/usr/sbin/ip", arguments) }

}
