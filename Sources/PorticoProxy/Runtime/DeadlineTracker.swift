import NIOCore

/// Something with a deadline: told once it has passed.
protocol DeadlineOwner: AnyObject {
  func deadlinePassed()
}

/// Request deadlines of one event loop, checked by one repeating task every `resolution`.
///
/// A scheduled task per request costs an allocation, a priority-queue insertion and, on cancellation, a
/// search of the queue; most requests finish long before their deadline, so that work is wasted. Here
/// adding and removing a deadline are array writes, and the ticker only runs while deadlines are pending.
final class DeadlineTracker {
  static let resolution = TimeAmount.milliseconds(10)

  private struct Entry {
    let deadline: NIODeadline
    let owner: DeadlineOwner
  }

  private let eventLoop: EventLoop
  private var entries: [Entry?] = []
  private var free: [Int] = []
  private var count = 0
  private var ticker: Scheduled<Void>?

  init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

  /// Tells `owner` once `deadline` has passed, unless `remove` is called first with the returned slot. The
  /// owner is held until then.
  func add(deadline: NIODeadline, owner: DeadlineOwner) -> Int {
    let entry = Entry(deadline: deadline, owner: owner)
    let slot: Int
    if let reused = free.popLast() {
      entries[reused] = entry
      slot = reused
    } else {
      entries.append(entry)
      slot = entries.count - 1
    }
    count += 1
    if ticker == nil { scheduleTick() }
    return slot
  }

  func remove(_ slot: Int) {
    guard entries.indices.contains(slot), entries[slot] != nil else { return }
    entries[slot] = nil
    free.append(slot)
    count -= 1
  }

  private func scheduleTick() {
    ticker = eventLoop.assumeIsolated().scheduleTask(in: Self.resolution) { [weak self] in self?.expireDue() }
  }

  private func expireDue() {
    ticker = nil
    let now = NIODeadline.now()
    for slot in entries.indices {
      guard let entry = entries[slot], entry.deadline <= now else { continue }
      remove(slot)
      entry.owner.deadlinePassed()
    }
    if count == 0 {
      entries.removeAll(keepingCapacity: true)
      free.removeAll(keepingCapacity: true)
    } else if ticker == nil {
      scheduleTick()
    }
  }
}
