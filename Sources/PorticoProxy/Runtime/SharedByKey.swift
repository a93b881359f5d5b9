import Synchronization

/// One value per key for the whole process, made on first use and kept: the client or cache of one auth
/// backend, shared by every step, configuration and event loop; the slot a loop-state name is given.
final class SharedByKey<Key: Hashable & Sendable, Value: Sendable>: Sendable {
  private let values = Mutex<[Key: Value]>([:])

  func value(for key: Key, make: () -> Value) -> Value {
    values.withLock { known in
      if let found = known[key] { return found }
      let made = make()
      known[key] = made
      return made
    }
  }
}
