import XCTest

@testable import PorticoRouting
@testable import PorticoTranslate

final class PlainRequestTests: XCTestCase {
  private func head(_ url: String, method: String = "GET", headers: [(String, String)] = []) throws
    -> PlainRequest
  {
    try XCTUnwrap(PlainRequest(method: method, url: url, headers: headers), url)
  }

  private func values(_ head: PlainRequest, _ name: String) -> [String] {
    var found: [String] = []
    _ = head.containsHeader(name) { value in
      found.append(String(value))
      return false
    }
    return found
  }

  func testURLIsSplitIntoAuthorityPathAndQuery() throws {
    let request = try head("http://example.com/a/b?x=1&y=2", method: "POST")
    XCTAssertEqual(request.method, "POST")
    XCTAssertEqual(request.authority, "example.com")
    XCTAssertEqual(request.path, "/a/b")
    XCTAssertEqual(request.query, "x=1&y=2")
  }

  func testHTTPSAndPort() throws {
    let request = try head("https://example.com:8443/secure")
    XCTAssertEqual(request.authority, "example.com:8443")
    XCTAssertEqual(request.path, "/secure")
    XCTAssertEqual(request.query, "")
  }

  func testMissingPathDefaultsToRoot() throws {
    let bare = try head("http://example.com")
    XCTAssertEqual(bare.authority, "example.com")
    XCTAssertEqual(bare.path, "/")
    XCTAssertEqual(bare.query, "")

    let withPort = try head("http://example.com:8080")
    XCTAssertEqual(withPort.authority, "example.com:8080")
    XCTAssertEqual(withPort.path, "/")

    let queryOnly = try head("http://example.com?x=1")
    XCTAssertEqual(queryOnly.authority, "example.com")
    XCTAssertEqual(queryOnly.path, "/")
    XCTAssertEqual(queryOnly.query, "x=1")
  }

  func testQueryIsSplitAtTheFirstQuestionMark() throws {
    let request = try head("http://example.com/a?b?c=/d")
    XCTAssertEqual(request.path, "/a")
    XCTAssertEqual(request.query, "b?c=/d")

    let empty = try head("http://example.com/a?")
    XCTAssertEqual(empty.path, "/a")
    XCTAssertEqual(empty.query, "")
  }

  func testPathIsKeptAsWritten() throws {
    let request = try head("http://example.com//a/%2F/B/")
    XCTAssertEqual(request.path, "//a/%2F/B/")
  }

  func testIPv6Authority() throws {
    let request = try head("http://[::1]:8080/x?y")
    XCTAssertEqual(request.authority, "[::1]:8080")
    XCTAssertEqual(request.path, "/x")
    XCTAssertEqual(request.query, "y")
    let router = CompiledRouter(virtualHosts: [
      makeHost("v6", domains: ["[::1]"], routes: [makeRoute("r", path: .exact("/x"))])
    ])
    XCTAssertEqual(router.checkedRoute(request), .match(0))
  }

  func testHostHeaderOverridesTheURLAuthority() throws {
    let request = try head("http://ignored.example/a", headers: [("Host", "real.example:8080")])
    XCTAssertEqual(request.authority, "real.example:8080")
    XCTAssertEqual(values(request, "host"), ["real.example:8080"])

    let lowercase = try head("http://ignored.example/a", headers: [("host", "real.example")])
    XCTAssertEqual(lowercase.authority, "real.example")

    let router = CompiledRouter(virtualHosts: [
      makeHost("ignored", domains: ["ignored.example"], routes: [makeRoute("i", path: .prefix("/"))]),
      makeHost("real", domains: ["real.example"], routes: [makeRoute("r", path: .prefix("/"))]),
    ])
    XCTAssertEqual(router.checkedRoute(request), .match(route: 0, matcher: 0, host: 1))
    XCTAssertEqual(
      router.checkedRoute(try head("http://ignored.example/a")), .match(route: 0, matcher: 0, host: 0))
  }

  func testHostHeaderIsAddedFromTheAuthority() throws {
    let request = try head("http://example.com:8080/a")
    XCTAssertEqual(values(request, "host"), ["example.com:8080"])
    let matcher = RouteMatcher(path: .prefix("/"), headers: [HeaderCondition(name: "Host", value: .present)])
    XCTAssertNil(matcher.firstMismatch(request))
  }

  func testHeaderNamesAreLowercasedAndValuesKept() throws {
    let request = try head(
      "http://example.com/", headers: [("X-Env", "Prod"), ("x-env", "dev"), ("ACCEPT", "*/*")])
    XCTAssertEqual(values(request, "x-env"), ["Prod", "dev"])
    XCTAssertEqual(values(request, "accept"), ["*/*"])
    XCTAssertEqual(values(request, "X-Env"), [], "lookups take lowercased names")
    XCTAssertTrue(request.containsHeader("x-env") { $0 == "dev" })
    XCTAssertFalse(request.containsHeader("x-env") { $0 == "prod" })
    XCTAssertFalse(request.containsHeader("x-missing") { _ in true })
  }

  func testInvalidURLs() {
    XCTAssertNil(PlainRequest(method: "GET", url: "example.com/a"))
    XCTAssertNil(PlainRequest(method: "GET", url: "/a/b"))
    XCTAssertNil(PlainRequest(method: "GET", url: "http:///a"))
    XCTAssertNil(PlainRequest(method: "GET", url: "http://?x=1"))
    XCTAssertNil(PlainRequest(method: "GET", url: "http://"))
  }

  func testPathAndQueryInitializer() {
    let request = PlainRequest(method: "DELETE", authority: "h", pathAndQuery: "/p?q=1&r")
    XCTAssertEqual(request.method, "DELETE")
    XCTAssertEqual(request.authority, "h")
    XCTAssertEqual(request.path, "/p")
    XCTAssertEqual(request.query, "q=1&r")
    let noQuery = PlainRequest(method: "GET", authority: "h", pathAndQuery: "/p")
    XCTAssertEqual(noQuery.path, "/p")
    XCTAssertEqual(noQuery.query, "")
  }

  func testParsedRequestRoutesByPathAndQuery() throws {
    let router = makeRouter([
      makeRoute(
        "v2",
        RouteMatcher(path: .exact("/api"), queryParameters: [QueryCondition(name: "v", value: .exact("2"))])),
      makeRoute("root", path: .exact("/")),
      makeRoute("api", path: .exact("/api")),
    ])
    XCTAssertEqual(router.checkedRoute(try head("http://example.com/api?v=2")), .match(0))
    XCTAssertEqual(router.checkedRoute(try head("http://example.com/api?v=3")), .match(2))
    XCTAssertEqual(router.checkedRoute(try head("http://example.com")), .match(1))
    XCTAssertEqual(router.checkedRoute(try head("http://example.com?v=2")), .match(1))
  }
}
