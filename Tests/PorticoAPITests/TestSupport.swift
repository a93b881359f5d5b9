import Foundation
import PorticoAPI
import XCTest

// Shared helpers for the PorticoAPI tests. They are free functions (not actor-isolated), so that every test
// class can use them under Swift 6 strict concurrency.

/// Loads one YAML (or JSON) text as if it were the file `file`.
func load(_ text: String, file: String = "test.yaml") -> ResourceSnapshot {
  ManifestLoader().load(text: text, file: file)
}

extension ResourceSnapshot {
  /// Every error, in source order.
  var errors: [Diagnostic] { allDiagnostics.errors }
  /// Every warning, in source order.
  var warnings: [Diagnostic] { allDiagnostics.warnings }
}

/// `text` with every non-empty line indented by `count` spaces.
func indented(_ text: String, by count: Int) -> String {
  let pad = String(repeating: " ", count: count)
  return text.split(separator: "\n", omittingEmptySubsequences: false)
    .map { $0.isEmpty ? "" : pad + $0 }
    .joined(separator: "\n")
}

/// A RouteTable document (`portico.dev/v1`) whose `spec.routes` list is `routes`, written at column 1
/// (`- name: ...`). The header takes five lines, so the first route starts on line 6.
func routeTableYAML(name: String = "rt", namespace: String = "team", routes: String) -> String {
  let header = """
    apiVersion: portico.dev/v1
    kind: RouteTable
    metadata: {name: \(name), namespace: \(namespace)}
    spec:
      routes:

    """
  return header + indented(routes, by: 2) + "\n"
}

/// A VirtualHost document (`portico.dev/v1`) with the given spec body, written at column 1.
func virtualHostYAML(name: String = "vh", namespace: String = "team", spec: String) -> String {
  let header = """
    apiVersion: portico.dev/v1
    kind: VirtualHost
    metadata: {name: \(name), namespace: \(namespace)}
    spec:

    """
  return header + indented(spec, by: 2) + "\n"
}

/// A VirtualGateway document (`portico.dev/v1`) with the given spec body, written at column 1.
func virtualGatewayYAML(name: String = "edge", namespace: String = "gw", spec: String) -> String {
  let header = """
    apiVersion: portico.dev/v1
    kind: VirtualGateway
    metadata: {name: \(name), namespace: \(namespace)}
    spec:

    """
  return header + indented(spec, by: 2) + "\n"
}

/// All descriptions, one per line, for failure messages.
func describe(_ diagnostics: [Diagnostic]) -> String {
  diagnostics.isEmpty ? "(none)" : diagnostics.map(\.description).joined(separator: "\n")
}

/// Fails unless `snapshot` has no errors.
func assertNoErrors(
  _ snapshot: ResourceSnapshot, file: StaticString = #filePath, line: UInt = #line
) {
  let errors = snapshot.errors
  XCTAssertTrue(errors.isEmpty, "unexpected errors:\n\(describe(errors))", file: file, line: line)
}

/// Fails unless `snapshot` has no diagnostics at all.
func assertNoDiagnostics(
  _ snapshot: ResourceSnapshot, file: StaticString = #filePath, line: UInt = #line
) {
  let all = snapshot.allDiagnostics
  XCTAssertTrue(all.isEmpty, "unexpected diagnostics:\n\(describe(all))", file: file, line: line)
}

/// The first diagnostic of `severity` whose rendered path is `path` and whose message contains `text`;
/// fails the test when there is none.
@discardableResult
func expectDiagnostic(
  _ diagnostics: [Diagnostic], _ severity: Diagnostic.Severity = .error, at path: String,
  containing text: String = "", file: StaticString = #filePath, line: UInt = #line
) -> Diagnostic? {
  let found = diagnostics.first { diagnostic in
    diagnostic.severity == severity && diagnostic.path.description == path
      && (text.isEmpty || diagnostic.message.contains(text))
  }
  if found == nil {
    XCTFail(
      "no \(severity) at '\(path)' containing '\(text)'; diagnostics:\n\(describe(diagnostics))",
      file: file, line: line)
  }
  return found
}

/// Fails when some diagnostic of `severity` has the rendered path `path`.
func expectNoDiagnostic(
  _ diagnostics: [Diagnostic], _ severity: Diagnostic.Severity = .error, at path: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  let found = diagnostics.filter { $0.severity == severity && $0.path.description == path }
  XCTAssertTrue(
    found.isEmpty, "unexpected \(severity) at '\(path)':\n\(describe(found))", file: file, line: line)
}

/// Asserts a diagnostic's file, line and column: `assertLocation(diagnostic, "a.yaml", 14, 9)`.
func assertLocation(
  _ diagnostic: Diagnostic?, _ expectedFile: String, _ expectedLine: Int, _ expectedColumn: Int,
  file: StaticString = #filePath, line: UInt = #line
) {
  guard let diagnostic else { return }  // expectDiagnostic already failed
  XCTAssertEqual(
    diagnostic.location, SourceLocation(file: expectedFile, line: expectedLine, column: expectedColumn),
    "for \(diagnostic)", file: file, line: line)
}

/// Runs `work` and returns how long it took.
func elapsed(_ work: () -> Void) -> Duration {
  ContinuousClock().measure(work)
}

/// A fresh, empty temporary directory; the caller removes it.
func makeTemporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("portico-api-tests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
