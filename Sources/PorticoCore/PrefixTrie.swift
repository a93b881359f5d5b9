/// A byte trie over literal strings. Each key holds values; a lookup walks the input once and reports the
/// values of every key that is a prefix of it, so finding all matching prefixes costs the input's length,
/// not the number of keys.
public struct PrefixTrie<Value: Sendable>: Sendable {
  private struct Node: Sendable {
    var labels: [UInt8] = []
    var children: [Int32] = []
    var values: [Value] = []
  }

  private var nodes: [Node] = [Node()]

  public init() {}

  public var isEmpty: Bool { nodes.count == 1 && nodes[0].values.isEmpty }

  public mutating func insert<S: StringProtocol>(_ key: S, _ value: Value) {
    var current = 0
    for byte in key.utf8 {
      if let next = child(of: current, byte) {
        current = next
      } else {
        nodes.append(Node())
        let created = nodes.count - 1
        nodes[current].labels.append(byte)
        nodes[current].children.append(Int32(created))
        current = created
      }
    }
    nodes[current].values.append(value)
  }

  /// Calls `body` with the values of each key that is a prefix of `input`, shortest key first.
  /// `fold` maps each input byte before the walk (lowercasing, for a case-insensitive trie).
  @inline(__always)
  public func forEachPrefix<S: StringProtocol>(
    of input: S, folding fold: (UInt8) -> UInt8 = { $0 }, _ body: (Value) -> Void
  ) {
    var current = 0
    for value in nodes[0].values { body(value) }
    for byte in input.utf8 {
      guard let next = child(of: current, fold(byte)) else { return }
      current = next
      for value in nodes[current].values { body(value) }
    }
  }

  /// The values stored under exactly `key`.
  public func values<S: StringProtocol>(at key: S) -> [Value] {
    var current = 0
    for byte in key.utf8 {
      guard let next = child(of: current, byte) else { return [] }
      current = next
    }
    return nodes[current].values
  }

  @inline(__always)
  private func child(of node: Int, _ byte: UInt8) -> Int? {
    let labels = nodes[node].labels
    for index in labels.indices where labels[index] == byte {
      return Int(nodes[node].children[index])
    }
    return nil
  }
}
