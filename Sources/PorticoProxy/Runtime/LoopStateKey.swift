import Synchronization

/// Names the state a filter keeps on each event loop (a cache, a client, metric series). Each distinct name
/// gets a number once, when a filter is built, so that a request finds its state by index instead of
/// hashing the name on every call. The same name always gets the same number in this process, so a filter
/// rebuilt by a reload finds its state again.
struct LoopStateKey: Hashable, Sendable {
  let slot: Int

  init(_ name: String) {
    slot = slotsByName.value(for: name) { slotsGiven.add(1, ordering: .relaxed).newValue - 1 }
  }
}

private let slotsByName = SharedByKey<String, Int>()
private let slotsGiven = Atomic<Int>(0)
