/// A byte trie over literal strings. Each key holds values; a lookup walks the input once and reports the
/// values of every key that is a prefix of it, so finding all matching prefixes costs the input's length,
/// not the number of keys.
///
/// Nodes, edges and values live in flat arrays of plain integers (children and values as linked lists), so
/// a lookup touches no reference counts.
public struct PrefixTrie<Value: Sendable>: Sendable {
  /// Per node: the byte on the edge into it, its first child, its next sibling, its first and last value.
  private var label: [UInt8] = [0]
  private var firstChild: [Int32] = [-1]
  private var nextSibling: [Int32] = [-1]
  private var firstValue: [Int32] = [-1]
  private var lastValue: [Int32] = [-1]
  /// Values, each with the next value of the same node.
  private var values: [Value] = []
  private var nextValue: [Int32] = []

  public init() {}

  public var isEmpty: Bool { values.isEmpty }

  public mutating func insert<S: StringProtocol>(_ key: S, _ value: Value) {
    var current = 0
    for byte in key.utf8 {
      if let next = child(of: current, byte) {
        current = next
      } else {
        let created = Int32(label.count)
        label.append(byte)
        firstChild.append(-1)
        nextSibling.append(firstChild[current])
        firstValue.append(-1)
        lastValue.append(-1)
        firstChild[current] = created
        current = Int(created)
      }
    }
    let stored = Int32(values.count)
    values.append(value)
    nextValue.append(-1)
    if lastValue[current] >= 0 {
      nextValue[Int(lastValue[current])] = stored
    } else {
      firstValue[current] = stored
    }
    lastValue[current] = stored
  }

  /// Calls `body` with the values of each key that is a prefix of `input`, shortest key first.
  /// `fold` maps each input byte before the walk (lowercasing, for a case-insensitive trie).
  @inlinable
  public func forEachPrefix<S: StringProtocol>(
    of input: S, folding fold: (UInt8) -> UInt8 = { $0 }, _ body: (Value) -> Void
  ) {
    var current = 0
    forEachValue(of: current, body)
    for byte in input.utf8 {
      guard let next = child(of: current, fold(byte)) else { return }
      current = next
      forEachValue(of: current, body)
    }
  }

  /// The values stored under exactly `key`, in insertion order.
  public func values<S: StringProtocol>(at key: S) -> [Value] {
    var current = 0
    for byte in key.utf8 {
      guard let next = child(of: current, byte) else { return [] }
      current = next
    }
    var found: [Value] = []
    forEachValue(of: current) { found.append($0) }
    return found
  }

  @usableFromInline
  func forEachValue(of node: Int, _ body: (Value) -> Void) {
    var value = firstValue[node]
    while value >= 0 {
      body(values[Int(value)])
      value = nextValue[Int(value)]
    }
  }

  @usableFromInline
  func child(of node: Int, _ byte: UInt8) -> Int? {
    var candidate = firstChild[node]
    while candidate >= 0 {
      if label[Int(candidate)] == byte { return Int(candidate) }
      candidate = nextSibling[Int(candidate)]
    }
    return nil
  }
}
