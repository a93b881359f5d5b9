/// What passed a costly check recently on one event loop (a password, a token's signature), so that the
/// next request with the same credential costs a lookup. Bounded: past `capacity` entries the older half
/// goes; an entry older than `lifetime` seconds counts as absent.
final class RecentPasses<Key: Hashable, Value> {
  private var entries: [Key: (value: Value, added: Int64)] = [:]
  private var order: [Key] = []
  private let lifetime: Int64
  static var capacity: Int { 4096 }

  init(lifetime seconds: Int64) { lifetime = seconds }

  func value(for key: Key, at now: Int64) -> Value? {
    guard let found = entries[key], now - found.added < lifetime else { return nil }
    return found.value
  }

  func insert(_ value: Value, for key: Key, at now: Int64) {
    if entries.updateValue((value, now), forKey: key) == nil { order.append(key) }
    if order.count > Self.capacity {
      let dropped = order.count - Self.capacity / 2
      for old in order.prefix(dropped) { entries[old] = nil }
      order.removeFirst(dropped)
    }
  }
}
