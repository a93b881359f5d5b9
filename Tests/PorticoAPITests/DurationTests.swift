import Foundation
import PorticoAPI
import XCTest

/// ManifestDuration: Go/protobuf-style durations.
final class DurationTests: XCTestCase {
  func testValidDurations() {
    let cases: [(String, Int64)] = [
      ("15s", 15_000_000_000),
      ("1.5s", 1_500_000_000),
      ("100ms", 100_000_000),
      ("1m30s", 90_000_000_000),
      ("2h", 7_200_000_000_000),
      ("1h30m", 5_400_000_000_000),
      ("250us", 250_000),
      ("250µs", 250_000),
      ("42ns", 42),
      ("0", 0),
      ("0s", 0),
      (".5s", 500_000_000),
      ("1m0.5s", 60_500_000_000),
    ]
    for (text, nanoseconds) in cases {
      let duration = ManifestDuration(text)
      XCTAssertEqual(duration.nanoseconds, nanoseconds, text)
      XCTAssertTrue(duration.isValid, text)
      XCTAssertEqual(duration.text, text)
      XCTAssertEqual(duration.description, text)
    }
    XCTAssertEqual(ManifestDuration("1.5s").seconds, 1.5)
    XCTAssertEqual(ManifestDuration("100ms").seconds, 0.1)
  }

  func testInvalidDurations() {
    for text in [
      "fast", "", "15", "s", "-1s", "1.5.5s", "1 s", "1S", "1sec", "1d", "1m30", "ms100", "1e3s",
      "99999999999h",
    ] {
      let duration = ManifestDuration(text)
      XCTAssertNil(duration.nanoseconds, text)
      XCTAssertFalse(duration.isValid, text)
      XCTAssertNil(duration.seconds, text)
      // The text is kept so that validation can quote it.
      XCTAssertEqual(duration.text, text)
    }
  }

  func testFormatting() {
    XCTAssertEqual(ManifestDuration(nanoseconds: 15_000_000_000).text, "15s")
    XCTAssertEqual(ManifestDuration(nanoseconds: 1_500_000_000).text, "1500ms")
    XCTAssertEqual(ManifestDuration(nanoseconds: 1_000_000).text, "1ms")
    XCTAssertEqual(ManifestDuration(nanoseconds: 1_500).text, "1500ns")
    XCTAssertEqual(ManifestDuration(nanoseconds: 0).text, "0s")
    // Formatted text parses back to the same value.
    for nanoseconds: Int64 in [0, 1, 999, 1_000_000, 1_500_000_000, 90_000_000_000] {
      XCTAssertEqual(
        ManifestDuration(ManifestDuration(nanoseconds: nanoseconds).text).nanoseconds, nanoseconds)
    }
  }

  func testEncodesAsWritten() throws {
    let data = try JSONEncoder().encode([ManifestDuration("1m30s")])
    XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["1m30s"]"#)
  }

  func testInvalidDurationIsReportedAtItsField() {
    let snapshot = load(
      routeTableYAML(
        routes: """
          - name: r
            options:
              requestTimeout: fast
            directResponseAction: {status: 200}
          """),
      file: "rt.yaml")
    let error = expectDiagnostic(
      snapshot.errors, at: "spec.routes[0].options.requestTimeout", containing: "invalid duration 'fast'")
    assertLocation(error, "rt.yaml", 8, 7)
    XCTAssertEqual(snapshot.errors.count, 1, describe(snapshot.errors))
  }

  func testNonScalarDurationIsADecodingError() {
    let snapshot = load(
      routeTableYAML(
        routes: """
          - name: r
            options: {requestTimeout: {seconds: 5}}
            directResponseAction: {status: 200}
          - name: ok
            directResponseAction: {status: 200}
          """))
    expectDiagnostic(
      snapshot.errors, at: "spec.routes[0].options.requestTimeout",
      containing: "expected a string, found a mapping")
    XCTAssertEqual(snapshot.routeTables.first?.spec.routes?.map(\.failedToDecode), [true, false])
  }
}
