import Foundation
import PorticoAPI
import XCTest

@testable import PorticoRateLimit

/// The in-gateway store: exact under contention, fixed windows aligned to the unit, slots reused once their
/// window has passed, and a clear answer (nil) when it is full.
final class LocalCounterStoreTests: XCTestCase {
  private let minute = WindowedCounter(counter: "tests/a\u{1}user=alice", unit: .minute)

  func testCountsAreExactFromManyThreadsAtOnce() {
    let store = LocalCounterStore(capacity: 256)
    let counters = (0..<8).map { WindowedCounter(counter: "tests/c\($0)", unit: .minute) }
    let now: Int64 = 1_796_040_000
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      for _ in 0..<10_000 { _ = store.increment(counters, at: now) }
    }
    XCTAssertEqual(store.increment(counters, at: now), Array(repeating: 80_001, count: 8))
  }

  func testWindowsAreAlignedToTheUnit() {
    let store = LocalCounterStore()
    let start: Int64 = 1_796_040_000  // on a minute boundary
    XCTAssertEqual(start % 60, 0)
    XCTAssertEqual(store.increment([minute], at: start + 10), [1])
    XCTAssertEqual(store.increment([minute], at: start + 59), [2], "the same minute")
    XCTAssertEqual(store.increment([minute], at: start + 60), [1], "the next minute starts at zero")
    XCTAssertEqual(minute.unit.secondsLeft(at: start + 10), 50)
  }

  func testAFullTableAnswersNilAndStaleSlotsAreReused() {
    let store = LocalCounterStore(capacity: 64)
    let now: Int64 = 1_796_040_000
    var refused = 0
    for index in 0..<2_000 {
      let counter = WindowedCounter(counter: "tests/ip=10.0.\(index / 256).\(index % 256)", unit: .second)
      if store.increment([counter], at: now) == nil { refused += 1 }
    }
    XCTAssertGreaterThan(refused, 0, "64 slots cannot hold 2,000 counters of one window")
    // A second later every slot is stale: new counters find room again.
    let later = WindowedCounter(counter: "tests/ip=192.0.2.1", unit: .second)
    XCTAssertEqual(store.increment([later], at: now + 1), [1])
  }

  func testCountersOfDifferentUnitsOrKeysAreApart() {
    let store = LocalCounterStore()
    let now: Int64 = 1_796_040_000
    let hour = WindowedCounter(counter: minute.counter, unit: .hour)
    let other = WindowedCounter(counter: "tests/a\u{1}user=bob", unit: .minute)
    XCTAssertEqual(store.increment([minute, hour, other], at: now), [1, 1, 1])
    XCTAssertEqual(store.increment([minute, minute], at: now), [2, 3])
  }
}
