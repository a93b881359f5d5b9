import Synchronization

/// The per-request series, `portico_requests_total` and `portico_request_duration_seconds`, kept apart from
/// the Prometheus registry so that counting a request takes no lock and no locked instruction. Each event
/// loop has cells of its own for every label set it has served, and only that loop writes them; a scrape
/// adds up the cells of every loop.
final class RequestMetrics: Sendable {
  /// Upper bounds of the duration buckets, in nanoseconds: 5 ms to 10 s.
  static let bucketBounds: [Int64] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000].map {
    $0 * 1_000_000
  }

  /// The labels of one `portico_requests_total` series.
  struct Labels: Hashable, Comparable {
    let host: String
    let route: String
    let destination: String
    let statusClass: String

    static func < (lhs: Labels, rhs: Labels) -> Bool {
      (lhs.host, lhs.route, lhs.destination, lhs.statusClass)
        < (rhs.host, rhs.route, rhs.destination, rhs.statusClass)
    }
  }

  private struct Registered {
    /// Per loop, by its identity.
    var requests: [Labels: [ObjectIdentifier: RequestCell]] = [:]
    /// Latency is kept by destination (as Envoy keeps it per cluster): a histogram per route would mean
    /// thousands of bucket arrays touched at random at 10,000 routes.
    var durations: [String: [ObjectIdentifier: DurationCells]] = [:]
  }

  private let registered = Mutex(Registered())

  /// `loop`'s cells for one label set, made on its first request with these labels and reused after,
  /// including after a reload.
  func cells(for labels: Labels, loop: ObjectIdentifier) -> (requests: RequestCell, duration: DurationCells) {
    registered.withLock { registered in
      (
        Self.cell(in: &registered.requests, key: labels, loop: loop, make: RequestCell.init),
        Self.cell(in: &registered.durations, key: labels.destination, loop: loop, make: DurationCells.init)
      )
    }
  }

  /// `loop`'s cell under `key`, made the first time it is asked for.
  private static func cell<Key: Hashable, Cell>(
    in table: inout [Key: [ObjectIdentifier: Cell]], key: Key, loop: ObjectIdentifier, make: () -> Cell
  ) -> Cell {
    if let cell = table[key]?[loop] { return cell }
    let cell = make()
    table[key, default: [:]][loop] = cell
    return cell
  }

  /// The text exposition of both series, every loop's cells added up, in a stable order.
  func exposition() -> String {
    registered.withLock { registered in
      var text = "# TYPE portico_requests_total counter\n"
      let series = registered.requests.map { labels, cells in
        (labels, cells.values.reduce(0) { $0 + $1.count })
      }
      for (labels, count) in series.sorted(by: { $0.0 < $1.0 }) {
        text +=
          "portico_requests_total{host=\"\(Self.escaped(labels.host))\",route=\"\(Self.escaped(labels.route))\""
        text +=
          ",destination=\"\(Self.escaped(labels.destination))\",status_class=\"\(labels.statusClass)\"} \(count)\n"
      }
      text += "# TYPE portico_request_duration_seconds histogram\n"
      for (destination, cells) in registered.durations.sorted(by: { $0.key < $1.key }) {
        let label = "destination=\"\(Self.escaped(destination))\""
        var buckets = [Int](repeating: 0, count: Self.bucketBounds.count + 1)
        var sum: Int64 = 0
        for cell in cells.values {
          for index in buckets.indices { buckets[index] += cell.count(inBucket: index) }
          sum += cell.sumNanoseconds
        }
        var cumulative = 0
        for (index, bound) in Self.bucketBounds.enumerated() {
          cumulative += buckets[index]
          text +=
            "portico_request_duration_seconds_bucket{\(label),le=\"\(Self.seconds(bound))\"} \(cumulative)\n"
        }
        cumulative += buckets[Self.bucketBounds.count]
        text += "portico_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(cumulative)\n"
        text += "portico_request_duration_seconds_sum{\(label)} \(Self.seconds(sum))\n"
        text += "portico_request_duration_seconds_count{\(label)} \(cumulative)\n"
      }
      return text
    }
  }

  /// Seconds in the exposition's number format: `0.005`, `1`, `2.5`.
  private static func seconds(_ nanoseconds: Int64) -> String {
    let seconds = Double(nanoseconds) / 1e9
    return seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int64(seconds)) : String(seconds)
  }

  /// A label value with backslash, double quote and line feed escaped, as the text format requires.
  static func escaped(_ value: String) -> String {
    guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 0x0A })
    else { return value }
    var escaped = ""
    for character in value {
      switch character {
      case "\\": escaped += "\\\\"
      case "\"": escaped += "\\\""
      case "\n": escaped += "\\n"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}

/// A count written by one event loop and read by scrapes. With a single writer, an increment is a load
/// and a store: no read-modify-write, so no bus lock, and never a lost count.
final class RequestCell: Sendable {
  private let value = Atomic<Int>(0)

  func increment() { value.store(value.load(ordering: .relaxed) &+ 1, ordering: .relaxed) }

  var count: Int { value.load(ordering: .relaxed) }
}

/// One event loop's request durations for one destination: a count per bucket (the last for durations
/// above every bound) and their sum, each written only by that loop.
final class DurationCells: Sendable {
  private let buckets: [RequestCell]
  private let sum = Atomic<Int64>(0)

  init() {
    buckets = (0...RequestMetrics.bucketBounds.count).map { _ in RequestCell() }
  }

  func record(nanoseconds: Int64) {
    let bounds = RequestMetrics.bucketBounds
    var index = 0
    while index < bounds.count, nanoseconds > bounds[index] { index += 1 }
    buckets[index].increment()
    sum.store(sum.load(ordering: .relaxed) &+ nanoseconds, ordering: .relaxed)
  }

  func count(inBucket index: Int) -> Int { buckets[index].count }

  var sumNanoseconds: Int64 { sum.load(ordering: .relaxed) }
}
