import NIOCore

/// One event loop's way to Redis: a connection per node, made on first use and again after it is lost
/// (with capped, jittered back-off, failing fast meanwhile), and for a cluster the slot map, learnt from
/// `CLUSTER SLOTS` and corrected by `MOVED` and `ASK` replies. Touched only from its event loop, so the
/// request path takes no lock.
///
/// The counts asked for during one loop turn go out together at its end, one `INCRBY key n` per distinct
/// key and one batch per node: n requests counting one key get the n counts that n separate `INCRBY key 1`
/// would have given them, in order, for one command and one reply.
public final class RedisLoopClient {
  public typealias Counted = (Result<[Int64], any Error>) -> Void

  private let configuration: RedisStoreConfiguration
  private let eventLoop: EventLoop
  private var nodes: [String: Node] = [:]
  /// Cluster only: the node of each slot, once known.
  private var slots: [String?] = []
  private var slotsLoading: EventLoopFuture<Void>?
  /// This turn's keys, each once, in the order first asked; `turnIndex` finds a key's entry.
  private var turn: [KeyCount] = []
  private var turnIndex: [String: Int] = [:]
  /// Requests not answered yet: one sweep every 10 ms fails those past their time, instead of a timer per
  /// request (arming and cancelling one each time costs more than the count itself).
  private var waiting: [Request] = []
  private var sweep: Scheduled<Void>?
  private static let sweepInterval = TimeAmount.milliseconds(10)

  private enum Node {
    case connecting(EventLoopFuture<RedisConnection>)
    case connected(RedisConnection)
    case down(until: NIODeadline, failures: Int)
  }

  /// One caller's keys: their counts as they come in, and the answer, given once (counts, failure or
  /// timeout, whichever is first).
  private final class Request {
    private var counts: [Int64]
    private var missing: Int
    let deadline: NIODeadline
    private var counted: Counted?

    init(keys: Int, deadline: NIODeadline, counted: @escaping Counted) {
      counts = Array(repeating: 0, count: keys)
      missing = keys
      self.deadline = deadline
      self.counted = counted
    }

    var isAnswered: Bool { counted == nil }

    func fill(_ index: Int, with count: Int64) {
      guard !isAnswered else { return }
      counts[index] = count
      missing -= 1
      if missing == 0 { answer(.success(counts)) }
    }

    func answer(_ result: Result<[Int64], any Error>) {
      guard let counted else { return }
      self.counted = nil
      counted(result)
    }
  }

  /// A key of one turn: every request that counts it, and where each wants its count.
  private struct KeyCount {
    let key: String
    let ttl: Int
    var askers: [(request: Request, index: Int)]
  }

  public init(configuration: RedisStoreConfiguration, eventLoop: EventLoop) {
    self.configuration = configuration
    self.eventLoop = eventLoop
  }

  /// Adds one to each key and answers the counts in order, on this loop, within `timeout`; a key that a
  /// count shows new gets its expiry (`EXPIRE key ttl`, sent without waiting).
  public func increment(_ keys: [(key: String, ttl: Int)], timeout: TimeAmount, counted: @escaping Counted) {
    guard !keys.isEmpty else { return counted(.success([])) }
    let request = Request(keys: keys.count, deadline: .now() + timeout, counted: counted)
    waiting.append(request)
    if sweep == nil { scheduleSweep() }
    if turn.isEmpty { eventLoop.assumeIsolated().execute { [self] in sendTurn() } }
    for (index, entry) in keys.enumerated() {
      if let position = turnIndex[entry.key] {
        turn[position].askers.append((request, index))
      } else {
        turnIndex[entry.key] = turn.count
        turn.append(KeyCount(key: entry.key, ttl: entry.ttl, askers: [(request, index)]))
      }
    }
  }

  /// The same, as a future.
  public func increment(_ keys: [(key: String, ttl: Int)], timeout: TimeAmount) -> EventLoopFuture<[Int64]> {
    let promise = eventLoop.makePromise(of: [Int64].self)
    increment(keys, timeout: timeout) { promise.completeWith($0) }
    return promise.futureResult
  }

  private func scheduleSweep() {
    sweep = eventLoop.assumeIsolated().scheduleTask(in: Self.sweepInterval) { [self] in
      sweep = nil
      let now = NIODeadline.now()
      waiting.removeAll { request in
        if request.isAnswered { return true }
        guard request.deadline <= now else { return false }
        request.answer(.failure(RedisError.timedOut))
        return true
      }
      if !waiting.isEmpty { scheduleSweep() }
    }
  }

  /// The turn is over: its keys go out, one batch per node.
  private func sendTurn() {
    let keys = turn
    turn.removeAll(keepingCapacity: true)
    turnIndex.removeAll(keepingCapacity: true)
    switch configuration.mode {
    case .single:
      send(keys, to: configuration.seeds[0])
    case .cluster:
      knownSlots().assumeIsolated().whenComplete { result in
        switch result {
        case .success: self.sendByNode(keys)
        case .failure(let error): self.fail(keys, error)
        }
      }
    }
  }

  private func sendByNode(_ keys: [KeyCount]) {
    var byNode: [String: [KeyCount]] = [:]
    for entry in keys {
      let slot = RedisSlot.of(entry.key)
      guard let node = slots[slot] else {
        fail([entry], RedisError.reply("slot \(slot) has no node"))
        continue
      }
      byNode[node, default: []].append(entry)
    }
    for (node, entries) in byNode { send(entries, to: node) }
  }

  /// One pipelined batch to `address`; keys redirected (MOVED, ASK) are sent once more where Redis says.
  private func send(_ keys: [KeyCount], to address: String, asking: Bool = false, mayRedirect: Bool = true) {
    withConnection(to: address) { result in
      guard case .success(let connection) = result else {
        if case .failure(let error) = result { self.fail(keys, error) }
        return
      }
      var commands = connection.channel.allocator.buffer(capacity: 64 * keys.count)
      for entry in keys {
        if asking { RESPEncoder.write(["ASKING"], into: &commands) }
        RESPEncoder.writeIncrement(entry.key, by: entry.askers.count, into: &commands)
      }
      let count = keys.count * (asking ? 2 : 1)
      connection.send(commands, count: count).assumeIsolated().whenComplete { result in
        switch result {
        case .success(let replies) where replies.count == count:
          self.settle(keys, replies, on: connection, asking: asking, mayRedirect: mayRedirect)
        case .success:
          self.fail(keys, RedisError.reply("wrong number of replies"))
        case .failure(let error):
          self.fail(keys, error)
        }
      }
    }
  }

  /// Hands each key's counts to its requests in the order they asked, sets the expiry of keys this batch
  /// created, and sends redirected keys on.
  private func settle(
    _ keys: [KeyCount], _ replies: [RESPValue], on connection: RedisConnection, asking: Bool,
    mayRedirect: Bool
  ) {
    let stride = asking ? 2 : 1
    var expiring: [[String]] = []
    var redirected: [(address: String, asking: Bool, keys: [KeyCount])] = []
    for (position, entry) in keys.enumerated() {
      switch replies[position * stride + stride - 1] {
      case .integer(let total):
        let first = total - Int64(entry.askers.count) + 1
        // The first count of a window: the key expires with it. A lost EXPIRE leaves one stale key, which
        // no later window reads.
        if first == 1 {
          if asking { expiring.append(["ASKING"]) }
          expiring.append(["EXPIRE", entry.key, String(entry.ttl)])
        }
        for (offset, asker) in entry.askers.enumerated() {
          asker.request.fill(asker.index, with: first + Int64(offset))
        }
      case .error(let message):
        guard let redirect = redirect(message) else {
          fail([entry], RedisError.reply(message))
          continue
        }
        // One redirect per key: a node that sends it on again means the cluster is changing under us.
        guard mayRedirect else {
          fail([entry], RedisError.tooManyRedirects)
          continue
        }
        if let group = redirected.firstIndex(where: {
          $0.address == redirect.address && $0.asking == redirect.asking
        }) {
          redirected[group].keys.append(entry)
        } else {
          redirected.append((redirect.address, redirect.asking, [entry]))
        }
      default:
        fail([entry], RedisError.reply("unexpected reply to INCRBY"))
      }
    }
    if !expiring.isEmpty { _ = connection.send(expiring) }
    for group in redirected { send(group.keys, to: group.address, asking: group.asking, mayRedirect: false) }
  }

  private func fail(_ keys: [KeyCount], _ error: any Error) {
    for entry in keys {
      for asker in entry.askers { asker.request.answer(.failure(error)) }
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
    loading.assumeIsolated().whenComplete { _ in self.slotsLoading = nil }
    return loading
  }

  private func loadSlots(from candidates: ArraySlice<String>) -> EventLoopFuture<Void> {
    guard let address = candidates.first else {
      return eventLoop.makeFailedFuture(RedisError.unavailable(configuration.description))
    }
    return connection(to: address).flatMap { $0.send([["CLUSTER", "SLOTS"]]) }.assumeIsolated()
      .flatMapThrowing {
        replies in
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
      }.flatMapError { _ in self.loadSlots(from: candidates.dropFirst()) }.nonisolated()
  }

  /// Runs `body` with the connection to `address`: at once when it is up, once made otherwise.
  private func withConnection(
    to address: String, _ body: @escaping (Result<RedisConnection, any Error>) -> Void
  ) {
    if case .connected(let connection) = nodes[address], connection.isActive {
      return body(.success(connection))
    }
    connection(to: address).assumeIsolated().whenComplete(body)
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
    future.assumeIsolated().whenComplete { result in
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
