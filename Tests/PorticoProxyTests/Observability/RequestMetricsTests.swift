import Foundation
import XCTest

@testable import PorticoProxy

/// The per-request series: every loop's cells added up in one series per label set, histogram buckets
/// cumulative and consistent with the count, label values escaped.
final class RequestMetricsTests: XCTestCase {
  let metrics = RequestMetrics()
  let labels = RequestMetrics.Labels(
    host: "apps/shop", route: "api", destination: "static:apps/echo", statusClass: "2xx")
  // Two stand-ins for event loops, kept alive so that their identities stay apart.
  let loops = (NSObject(), NSObject())
  var first: ObjectIdentifier { ObjectIdentifier(loops.0) }
  var second: ObjectIdentifier { ObjectIdentifier(loops.1) }

  func testLoopsCountInCellsOfTheirOwnAndAScrapeAddsThemUp() {
    let one = metrics.cells(for: labels, loop: first)
    let two = metrics.cells(for: labels, loop: second)
    XCTAssertFalse(one.requests === two.requests, "each loop writes cells of its own")
    XCTAssertTrue(
      metrics.cells(for: labels, loop: first).requests === one.requests, "a loop's cells are reused")
    for _ in 0..<3 { one.requests.increment() }
    two.requests.increment()
    one.duration.record(nanoseconds: 1_000_000)  // 1 ms: in the first bucket
    one.duration.record(nanoseconds: 30_000_000)  // 30 ms
    two.duration.record(nanoseconds: 20_000_000_000)  // 20 s: above every bound

    let text = metrics.exposition()
    XCTAssertTrue(
      text.contains(
        #"portico_requests_total{host="apps/shop",route="api",destination="static:apps/echo",status_class="2xx"} 4"#
      ),
      text)
    let histogram = #"portico_request_duration_seconds_bucket{destination="static:apps/echo","#
    XCTAssertTrue(text.contains(histogram + #"le="0.005"} 1"#), text)
    XCTAssertTrue(text.contains(histogram + #"le="0.025"} 1"#), text)
    XCTAssertTrue(text.contains(histogram + #"le="0.05"} 2"#), text)
    XCTAssertTrue(text.contains(histogram + #"le="10"} 2"#), text)
    XCTAssertTrue(text.contains(histogram + #"le="+Inf"} 3"#), text)
    XCTAssertTrue(
      text.contains(#"portico_request_duration_seconds_count{destination="static:apps/echo"} 3"#), text)
    XCTAssertTrue(
      text.contains(#"portico_request_duration_seconds_sum{destination="static:apps/echo"} 20.031"#), text)
    XCTAssertEqual(text.components(separatedBy: "# TYPE portico_requests_total counter").count, 2)
  }

  func testASeriesOfAnotherStatusClassIsASeriesOfItsOwn() {
    let failed = RequestMetrics.Labels(
      host: labels.host, route: labels.route, destination: labels.destination, statusClass: "5xx")
    metrics.cells(for: labels, loop: first).requests.increment()
    metrics.cells(for: failed, loop: first).requests.increment()
    let text = metrics.exposition()
    XCTAssertTrue(text.contains(#"status_class="2xx"} 1"#), text)
    XCTAssertTrue(text.contains(#"status_class="5xx"} 1"#), text)
    XCTAssertEqual(
      text.components(separatedBy: "portico_request_duration_seconds_count").count, 2,
      "durations are kept by destination only")
  }

  func testLabelValuesAreEscaped() {
    let odd = RequestMetrics.Labels(host: "a\"b", route: "c\\d", destination: "e\nf", statusClass: "2xx")
    metrics.cells(for: odd, loop: first).requests.increment()
    let text = metrics.exposition()
    XCTAssertTrue(text.contains(#"{host="a\"b",route="c\\d",destination="e\nf",status_class="2xx"} 1"#), text)
  }
}
