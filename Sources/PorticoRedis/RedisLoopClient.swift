import NIOCore

/// One event loop's way to Redis: a connection per node, made on first use and again after it is lost
/// (with capped, jittered back-off, failing fast meanwhile), and for a cluster the slot map, learnt from
/// `CLUSTER SLOTS` and corrected by `MOVED` and `ASK` replies. Touched only from its event loop, so the
/// request path takes no lock.
public final class RedisLoopClient {
  private let configuration: RedisStoreConfiguration
  private let eventLoop: EventLoop
  private var nodes: [String: Node] = [:]
  /// Cluster only: the node of each slot, once known.
  private var slots: [String?] = []
  private var slotsLoading: EventLoopFuture<Void>?
  /// Counts asked for and not answered yet, with when they time out: one sweep every 10 ms fails those past
  /// their time, instead of a timer per request (arming and cancelling one each time costs more than the
  /// count itself).
  private var waiting: [(deadline: NIODeadline, outcome: Outcome, promise: EventLoopPromise<[Int64]>)] = []
  private var sweep: Scheduled<Void>?
  private static let sweepInterval = TimeAmount.milliseconds(10)

  private enum Node {
    case connecting(EventLoopFuture<RedisConnection>)
    case connected(RedisConnection)
    case down(until: NIODeadline, failures: Int)
  }

  public init(configuration: RedisStoreConfiguration, eventLoop: EventLoop) {
    self.configuration = configuration
    self.eventLoop = eventLoop
  }

  /// Adds one to each key (`INCRBY key 1`, pipelined, one round trip per node) and answers the counts in
  /// order; a key that a count shows new gets its expiry (`EXPIRE key ttl`, sent without waiting). Fails
  /// after `timeout`.
  public func increment(_ keys: [(key: String, ttl: Int)], timeout: TimeAmount) -> EventLoopFuture<[Int64]> {
    let promise = eventLoop.makePromise(of: [Int64].self)
    let outcome = Outcome()
    waiting.append((.now() + timeout, outcome, promise))
    if sweep == nil { scheduleSweep() }
    run(keys).whenComplete { result in
      if outcome.settle() { promise.completeWith(result) }
    }
    return promise.futureResult
  }

  private func scheduleSweep() {
    sweep = eventLoop.scheduleTask(in: Self.sweepInterval) { [self] in
      sweep = nil
      let now = NIODeadline.now()
      waiting.removeAll { entry in
        if entry.outcome.isSettled { return true }
        guard entry.deadline <= now else { return false }
        if entry.outcome.settle() { entry.promise.fail(RedisError.timedOut) }
        return true
      }
      if !waiting.isEmpty { scheduleSweep() }
    }
  }

  /// Whether the answer was given already (a timeout, or the reply).
  private final class Outcome {
    private(set) var isSettled = false

    func settle() -> Bool {
      guard !isSettled else { return false }
      isSettled = true
      return true
    }
  }

  private func run(_ keys: [(key: String, ttl: Int)]) -> EventLoopFuture<[Int64]> {
    switch configuration.mode {
    case .single:
      return increment(keys, at: configuration.seeds[0])
    case .cluster:
      return knownSlots().flatMap { self.incrementInCluster(keys) }
    }
  }

  private func incrementInCluster(_ keys: [(key: String, ttl: Int)]) -> EventLoopFuture<[Int64]> {
    var byNode: [String: [Int]] = [:]
    for (index, entry) in keys.enumerated() {
      guard let node = slots[RedisSlot.of(entry.key)] else {
        return eventLoop.makeFailedFuture(RedisError.reply("slot \(RedisSlot.of(entry.key)) has no node"))
      }
      byNode[node, default: []].append(index)
    }
    let parts = byNode.map { node, indices in
      self.increment(indices.map { keys[$0] }, at: node).map { (indices, $0) }
    }
    return EventLoopFuture.whenAllSucceed(parts, on: eventLoop).map { answers in
      var counts = [Int64](repeating: 0, count: keys.count)
      for (indices, values) in answers {
        for (index, value) in zip(indices, values) { counts[index] = value }
      }
      return counts
    }
  }

  /// One pipelined batch to `address`; redirected keys (MOVED, ASK) are sent once more where Redis says.
  private func increment(
    _ keys: [(key: String, ttl: Int)], at address: String, asking: Bool = false, mayRedirect: Bool = true
  )
    -> EventLoopFuture<
      [Int64]
    >
  {
    var commands: [[String]] = []
    for entry in keys {
      if asking { commands.append(["ASKING"]) }
      commands.append(["INCRBY", entry.key, "1"])
    }
    let stride = asking ? 2 : 1
    let offset = asking ? 1 : 0
    return connection(to: address).flatMap { connection in
      connection.send(commands).map { (connection, $0) }
    }.flatMap { connection, replies in
      var counts: [Int64?] = Array(repeating: nil, count: keys.count)
      var redirected: [(index: Int, address: String, asking: Bool)] = []
      for index in keys.indices {
        switch replies[index * stride + offset] {
        case .integer(let count):
          counts[index] = count
          // The first count of a window: the key expires with it. A lost EXPIRE leaves one stale key, which
          // no later window reads.
          if count == 1 {
            let expire = ["EXPIRE", keys[index].key, String(keys[index].ttl)]
            _ = connection.send(asking ? [["ASKING"], expire] : [expire])
          }
        case .error(let message):
          guard let redirect = self.redirect(message) else {
            return self.eventLoop.makeFailedFuture(RedisError.reply(message))
          }
          // One redirect per key: a node that sends it on again means the cluster is changing under us.
          guard mayRedirect else { return self.eventLoop.makeFailedFuture(RedisError.tooManyRedirects) }
          redirected.append((index, redirect.address, redirect.asking))
        default:
          return self.eventLoop.makeFailedFuture(RedisError.reply("unexpected reply to INCRBY"))
        }
      }
      guard !redirected.isEmpty else { return self.eventLoop.makeSucceededFuture(counts.map { $0! }) }
      let retries = redirected.map { entry in
        self.increment([keys[entry.index]], at: entry.address, asking: entry.asking, mayRedirect: false).map {
          (entry.index, $0[0])
        }
      }
      return EventLoopFuture.whenAllSucceed(retries, on: self.eventLoop).map { answers in
        for (index, count) in answers { counts[index] = count }
        return counts.map { $0! }
      }
    }
  }

  /// `MOVED slot host:port` (the slot map is corrected) or `ASK slot host:port` (for this command only).
  private func redirect(_ message: String) -> (address: String, asking: Bool)? {
    let parts = message.split(separator: " ")
    guard parts.count == 3, let slot = Int(parts[1]), (0..<RedisSlot.count).contains(slot) else { return nil }
    let address = String(parts[2])
    switch parts[0] {
    case "MOVED":
      if slots.count == RedisSlot.count { slots[slot] = address }
      return (address, false)
    case "ASK":
      return (address, true)
    default:
      return nil
    }
  }

  /// The slot map, loaded from the first seed (or known node) that answers `CLUSTER SLOTS`.
  private func knownSlots() -> EventLoopFuture<Void> {
    if slots.count == RedisSlot.count { return eventLoop.makeSucceededVoidFuture() }
    if let loading = slotsLoading { return loading }
    let candidates = configuration.seeds + nodes.keys.filter { !configuration.seeds.contains($0) }
    let loading = loadSlots(from: candidates[...])
    slotsLoading = loading
    loading.whenComplete { _ in self.slotsLoading = nil }
    return loading
  }

  private func loadSlots(from candidates: ArraySlice<String>) -> EventLoopFuture<Void> {
    guard let address = candidates.first else {
      return eventLoop.makeFailedFuture(RedisError.unavailable(configuration.description))
    }
    return connection(to: address).flatMap { $0.send([["CLUSTER", "SLOTS"]]) }.flatMapThrowing { replies in
      guard case .array(let ranges?) = replies.first else {
        throw RedisError.reply("bad CLUSTER SLOTS reply")
      }
      var map = [String?](repeating: nil, count: RedisSlot.count)
      for case .array(let range?) in ranges {
        guard range.count >= 3, case .integer(let start) = range[0], case .integer(let end) = range[1],
          case .array(let master?) = range[2], master.count >= 2, case .bulk(let host?) = master[0],
          case .integer(let port) = master[1], start >= 0, end < RedisSlot.count, start <= end
        else { continue }
        let node = "\(String(buffer: host)):\(port)"
        for slot in Int(start)...Int(end) { map[slot] = node }
      }
      self.slots = map
    }.flatMapError { _ in self.loadSlots(from: candidates.dropFirst()) }
  }

  /// The connection to `address`, made when there is none; fails fast while the node is in back-off.
  private func connection(to address: String) -> EventLoopFuture<RedisConnection> {
    switch nodes[address] {
    case .connected(let connection) where connection.isActive:
      return eventLoop.makeSucceededFuture(connection)
    case .connecting(let future):
      return future
    case .down(let until, _) where until > .now():
      return eventLoop.makeFailedFuture(RedisError.unavailable(address))
    default:
      break
    }
    let failures: Int
    if case .down(_, let count) = nodes[address] { failures = count } else { failures = 0 }
    let future = RedisConnection.connect(to: address, on: eventLoop, timeout: .seconds(1))
    nodes[address] = .connecting(future)
    future.whenComplete { result in
      switch result {
      case .success(let connection):
        self.nodes[address] = .connected(connection)
      case .failure:
        // 100 ms, doubling to 5 s, with up to a fifth of jitter so that loops do not retry in step.
        let base = min(5_000, 100 << min(failures, 6))
        let jitter = Int.random(in: 0...(base / 5))
        self.nodes[address] = .down(
          until: .now() + .milliseconds(Int64(base + jitter)), failures: failures + 1)
      }
    }
    return future.flatMapErrorThrowing { _ in throw RedisError.unavailable(address) }
  }

  /// Closes every connection (the gateway is stopping, or the store changed).
  public func close() {
    sweep?.cancel()
    for case .connected(let connection) in nodes.values { connection.close() }
    nodes = [:]
  }
}
