import Foundation
import NIOHTTP1
import PorticoAPI
import XCTest

@testable import PorticoProxy

/// Runs the table in `Conformance/cases.yaml`: each case is a request with what the backend must have
/// received and what the client must get back. The table is data, so adding a case needs no code.
final class ConformanceTests: XCTestCase {
  func testConformanceTable() async throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Conformance/cases.yaml")
    let text = try String(contentsOf: file, encoding: .utf8)
    let table = try XCTUnwrap(try YAMLComposer(file: file.path).documents(in: text).first)
    let upstreams = (table["upstreams"]?.list ?? []).compactMap(\.scalar)
    let manifests = try XCTUnwrap(table["manifests"]?.scalar)
    let gateway = try await TestGateway(upstreams: upstreams) { gateway in
      var text = manifests
      for name in upstreams {
        text = text.replacingOccurrences(of: "{{port:\(name)}}", with: "\(gateway.port(name))")
      }
      return text
    }
    addTeardownBlock { await gateway.stop() }
    let cases = table["cases"]?.list ?? []
    XCTAssertGreaterThan(cases.count, 30)
    for entry in cases {
      try await run(Case(entry), on: gateway)
    }
  }

  /// One row of the table.
  struct Case {
    let name: String
    let method: String
    let path: String
    let host: String
    let headers: [(String, String)]
    let body: String?
    let backend: YAMLNode?
    let response: YAMLNode?
    let within: Int?
    let repeatCount: Int
    let split: [String: Double]
    let tolerance: Double

    init(_ node: YAMLNode) {
      let unique = UUID().uuidString
      name = node["name"]?.scalar ?? "unnamed case"
      let request = node["request"]
      method = request?["method"]?.scalar ?? "GET"
      path = (request?["path"]?.scalar ?? "/").replacingOccurrences(of: "{{unique}}", with: unique)
      host = request?["host"]?.scalar ?? "conformance.test"
      headers = (request?["headers"]?.pairs ?? []).map { ($0.key, $0.value) }
      body = request?["body"]?.scalar
      backend = node["backend"].map { Self.substituting(unique, in: $0) }
      response = node["response"]
      within = node["within"]?.scalar.flatMap { Int($0) }
      repeatCount = node["repeat"]?.scalar.flatMap { Int($0) } ?? 1
      split = Dictionary(
        uniqueKeysWithValues: (node["split"]?.pairs ?? []).map { ($0.key, Double($0.value) ?? 0) })
      tolerance = node["tolerance"]?.scalar.flatMap { Double($0) } ?? 0.05
    }

    /// `{{unique}}` in the case's expectations stands for the same value as in its request.
    static func substituting(_ unique: String, in node: YAMLNode) -> YAMLNode {
      switch node.content {
      case .scalar(let text, let isPlain):
        return YAMLNode(
          .scalar(text.replacingOccurrences(of: "{{unique}}", with: unique), isPlain: isPlain),
          at: node.location)
      case .sequence(let items):
        return YAMLNode(.sequence(items.map { substituting(unique, in: $0) }), at: node.location)
      case .mapping(let pairs):
        return YAMLNode(
          .mapping(pairs.map { ($0.key, substituting(unique, in: $0.value)) }), at: node.location)
      }
    }
  }

  private func run(_ item: Case, on gateway: TestGateway) async throws {
    let started = ContinuousClock.now
    var servedBy: [String: Int] = [:]
    var last: TestResponse?
    for _ in 0..<item.repeatCount {
      let response = try await send(
        HTTPMethod(rawValue: item.method), gateway.base + item.path, host: item.host, headers: item.headers,
        body: item.body)
      servedBy[response.headers["x-upstream"].first ?? "-", default: 0] += 1
      last = response
    }
    let elapsed = ContinuousClock.now - started
    guard let response = last else { return }
    let context = "\(item.name) (\(item.method) \(item.path))"
    if let within = item.within {
      XCTAssertLessThan(elapsed, .milliseconds(within), context)
    }
    for (server, share) in item.split {
      let seen = Double(servedBy[server] ?? 0) / Double(item.repeatCount)
      XCTAssertEqual(seen, share, accuracy: item.tolerance, "\(context): \(server) served \(servedBy)")
    }
    if let expected = item.response {
      if let status = expected["status"]?.scalar {
        XCTAssertEqual(String(response.status), status, "\(context): status; body \(response.body)")
      }
      for (name, value) in expected["headers"]?.pairs ?? [] {
        XCTAssertEqual(response.headers[name], [value], "\(context): response header \(name)")
      }
      for name in (expected["absent"]?.list ?? []).compactMap(\.scalar) {
        XCTAssertEqual(response.headers[name], [], "\(context): response header \(name) should be absent")
      }
      if let body = expected["body"]?.scalar {
        XCTAssertEqual(response.body, body, "\(context): body")
      }
    }
    if let expected = item.backend {
      let echo = response.json
      XCTAssertFalse(echo.isEmpty, "\(context): the backend's echo, got \(response.status) \(response.body)")
      for key in ["server", "method", "path", "query"] {
        if let value = expected[key]?.scalar {
          XCTAssertEqual(echo[key] as? String, value, "\(context): backend \(key)")
        }
      }
      if let bytes = expected["bodyBytes"]?.scalar {
        XCTAssertEqual(echo["bodyBytes"] as? Int, Int(bytes), "\(context): backend body size")
      }
      for (name, value) in expected["headers"]?.pairs ?? [] {
        XCTAssertEqual(response.upstreamHeader(name), [value], "\(context): backend header \(name)")
      }
      for name in (expected["absent"]?.list ?? []).compactMap(\.scalar) {
        XCTAssertNil(response.upstreamHeader(name), "\(context): backend header \(name) should be absent")
      }
    }
  }
}

extension YAMLNode {
  fileprivate var list: [YAMLNode]? {
    if case .sequence(let items) = content { return items }
    return nil
  }

  /// A mapping's scalar keys and values, in order.
  fileprivate var pairs: [(key: String, value: String)]? {
    guard case .mapping(let pairs) = content else { return nil }
    return pairs.compactMap { pair in
      guard let key = pair.key.scalar, let value = pair.value.scalar else { return nil }
      return (key, value)
    }
  }
}
