import NIOCore
import NIOPosix
import XCTest

@testable import PorticoRedis

/// The Redis client against real servers: pipelined counts with expiry, one Redis and a Redis Cluster
/// (keys spread over its nodes, a moved slot followed), and fast failure while Redis is gone.
final class RedisClientTests: XCTestCase {
  private let group = MultiThreadedEventLoopGroup.singleton

  private func client(_ url: String) throws -> (RedisLoopClient, EventLoop) {
    let loop = group.next()
    return (RedisLoopClient(configuration: try RedisStoreConfiguration(url: url), eventLoop: loop), loop)
  }

  private func increment(_ client: RedisLoopClient, on loop: EventLoop, _ keys: [String]) async throws
    -> [Int64]
  {
    try await loop.flatSubmit { client.increment(keys.map { ($0, 60) }, timeout: .seconds(2)) }.get()
  }

  func testCountsArePipelinedAndExpire() async throws {
    let redis = try RedisServer()
    defer { redis.stop() }
    let (client, loop) = try client("redis://" + redis.address)
    let first = try await increment(client, on: loop, ["test:a", "test:b", "test:a"])
    XCTAssertEqual(first, [1, 1, 2])
    let second = try await increment(client, on: loop, ["test:a"])
    XCTAssertEqual(second, [3])
    let ttl = try XCTUnwrap(Int(try redis.cli("TTL", "test:a")))
    XCTAssertTrue((1...60).contains(ttl), "expiry set once: \(ttl)")
  }

  /// Requests of one loop turn that count the same key share one `INCRBY key n`, and still get the n
  /// counts separate increments would have given them, in the order they asked.
  func testOneTurnsCountsOfAKeyGoOutAsOneCommand() async throws {
    let redis = try RedisServer()
    defer { redis.stop() }
    let (client, loop) = try client("redis://" + redis.address)
    _ = try await increment(client, on: loop, ["test:warm"])  // connected before the turn under test
    _ = try redis.cli("CONFIG", "RESETSTAT")
    let counts = try await loop.flatSubmit {
      let futures = (0..<20).map { _ in
        client.increment([("test:shared", 60), ("test:other", 60)], timeout: .seconds(2))
      }
      return EventLoopFuture.whenAllSucceed(futures, on: loop)
    }.get()
    XCTAssertEqual(counts.map { $0[0] }, Array(1...20))
    XCTAssertEqual(counts.map { $0[1] }, Array(1...20))
    let stats = try redis.cli("INFO", "commandstats")
    XCTAssertTrue(stats.contains("cmdstat_incrby:calls=2,"), stats)
    let ttl = try XCTUnwrap(Int(try redis.cli("TTL", "test:shared")))
    XCTAssertTrue((1...60).contains(ttl), "a key new in a batch expires: \(ttl)")
  }

  func testAClusterSpreadsKeysAndFollowsAMovedSlot() async throws {
    let cluster = try RedisClusterServers()
    defer { cluster.stop() }
    let (client, loop) = try client(cluster.url)
    let keys = (0..<30).map { "test:key:\($0)" }
    let counts = try await increment(client, on: loop, keys + keys)
    XCTAssertEqual(counts, Array(repeating: 1, count: 30) + Array(repeating: 2, count: 30))
    let holders = try cluster.nodes.map { try Int($0.cli("DBSIZE")) ?? 0 }
    XCTAssertEqual(holders.reduce(0, +), 30)
    XCTAssertTrue(holders.allSatisfy { $0 > 0 }, "every master holds some: \(holders)")

    // Move an empty slot to another master: the client still holds the old map, is told MOVED, and follows.
    let key = "test:moving"
    let slot = RedisSlot.of(key)
    let owner = try XCTUnwrap(
      try cluster.nodes.first {
        try $0.cli("CLUSTER", "COUNTKEYSINSLOT", String(slot)) == "0" && $0.owns(slot)
      })
    let target = try XCTUnwrap(cluster.nodes.first { $0 !== owner })
    let targetID = try target.cli("CLUSTER", "MYID")
    for node in cluster.nodes { try node.cli("CLUSTER", "SETSLOT", String(slot), "NODE", targetID) }
    let moved = try await increment(client, on: loop, [key, key])
    XCTAssertEqual(moved, [1, 2])
    XCTAssertEqual(try target.cli("GET", key), "2")
  }

  func testAMissingRedisFailsFastAndIsFoundAgain() async throws {
    let redis = try RedisServer()
    defer { redis.stop() }
    let (client, loop) = try client("redis://" + redis.address)
    _ = try await increment(client, on: loop, ["test:a"])
    redis.kill()
    let started = ContinuousClock.now
    do {
      _ = try await increment(client, on: loop, ["test:a"])
      XCTFail("no Redis, no count")
    } catch {}
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
    try redis.start()
    let deadline = ContinuousClock.now + .seconds(8)
    var counted: [Int64]?
    while counted == nil, ContinuousClock.now < deadline {
      counted = try? await increment(client, on: loop, ["test:a"])
      if counted == nil { try await Task.sleep(for: .milliseconds(100)) }
    }
    XCTAssertEqual(counted, [1], "a new Redis starts from nothing")
  }
}

extension RedisServer {
  /// Whether this node serves `slot`, by `CLUSTER SLOTS`.
  func owns(_ slot: Int) throws -> Bool {
    let lines = try cli("CLUSTER", "SLOTS").split(separator: "\n").map(String.init)
    // Each range is: start, end, host, port, id...; find the range holding the slot and check the port.
    var index = 0
    while index + 3 < lines.count {
      if let start = Int(lines[index]), let end = Int(lines[index + 1]), (start...end).contains(slot) {
        return lines[index + 3] == String(port)
      }
      index += 1
    }
    return false
  }
}
