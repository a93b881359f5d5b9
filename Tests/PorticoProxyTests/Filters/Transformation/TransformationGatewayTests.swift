import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// `transformations` on a running gateway, against the demo upstream (which echoes what it received as
/// JSON): both directions on one route, the stage of `applyBeforeAuth` (the WAF sees the rewritten body),
/// response entries chosen by status, hostile XML refused, and messages without a body passed as they are.
final class TransformationGatewayTests: XCTestCase {
  var gateway: TestGateway!

  /// `<order><id>7</id></order>` becomes `<o id="7">TRANSFORMED</o>`.
  static let rewriteOrder = """
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:output method="xml" omit-xml-declaration="yes"/>
      <xsl:template match="/order"><o id="{id}">TRANSFORMED</o></xsl:template>
    </xsl:stylesheet>
    """

  /// The echo's JSON, read as XML: the body length and the content type the upstream received.
  static let readEcho = """
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:fn="http://www.w3.org/2005/xpath-functions">
      <xsl:output method="text" media-type="text/plain"/>
      <xsl:template match="/fn:map">
        <xsl:value-of select="fn:number[@key='bodyBytes']"/>|<xsl:value-of
          select="fn:map[@key='headers']/fn:array[@key='content-type']/fn:string"/>
      </xsl:template>
    </xsl:stylesheet>
    """

  /// The demo upstream's `/status/404` body, `404`, is a JSON number.
  static let notFound = """
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:output method="text"/>
      <xsl:template match="/">not found (<xsl:value-of select="."/>)</xsl:template>
    </xsl:stylesheet>
    """

  private static func block(_ text: String, indent: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map {
      String(repeating: " ", count: indent) + $0
    }
    .joined(separator: "\n")
  }

  private static func xslt(_ text: String, indent: Int, extra: String = "") -> String {
    let pad = String(repeating: " ", count: indent)
    return """
      \(pad)xsltTransformation:\(extra.isEmpty ? "" : "\n\(pad)  \(extra)")
      \(pad)  xslt: |
      \(block(text, indent: indent + 4))
      """
  }

  override func setUp() async throws {
    gateway = try await TestGateway(upstreams: ["echo"]) { gateway in
      gatewayManifest() + staticDestination("echo", ports: [gateway.port("echo")])
        + virtualHost(
          "shop.test",
          routes: """
              - matchers: [{uri: {prefix: /both}}, {uri: {prefix: /status}}]
                options:
                  transformations:
                    request:
                    - transformation:
            \(Self.xslt(Self.rewriteOrder, indent: 12, extra: "setContentType: application/xml"))
                    response:
                    - matchers: [{headers: [{name: ":status", value: "404"}]}]
                      transformation:
            \(Self.xslt(Self.notFound, indent: 12, extra: "nonXmlTransform: true"))
                    - matchers: [{responseCodeDetails: via_upstream}]
                      transformation:
            \(Self.xslt(Self.readEcho, indent: 12, extra: "nonXmlTransform: true"))
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /staged}}]
                options:
                  waf:
                    ruleSets:
                    - ruleStr: |
                        SecRule XML:/* "@contains TRANSFORMED" "id:100,phase:2,deny,status:403,log"
                  transformations:
                    request:
                    - matchers: [{headers: [{name: x-stage, value: early}]}]
                      applyBeforeAuth: true
                      transformation:
            \(Self.xslt(Self.rewriteOrder, indent: 12))
                    - transformation:
            \(Self.xslt(Self.rewriteOrder, indent: 12))
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - matchers: [{uri: {prefix: /bytes}}]
                options:
                  maxRequestBodyBytes: 1000
                  transformations:
                    response:
                    - transformation:
            \(Self.xslt(Self.notFound, indent: 12))
                routeAction: {destinations: [{staticDestination: {name: echo}}]}
              - routeAction: {destinations: [{staticDestination: {name: echo}}]}
            """)
    }
  }

  override func tearDown() async throws { await gateway?.stop() }

  private let order = "<order><id>7</id></order>"

  func testBothDirectionsOnOneRoute() async throws {
    let response = try await send(
      .POST, gateway.base + "/both", host: "shop.test", headers: [("content-type", "text/xml")], body: order)
    XCTAssertEqual(response.status, 200, response.body)
    let transformed = #"<o id="7">TRANSFORMED</o>"#
    XCTAssertEqual(response.body, "\(transformed.utf8.count + 1)|application/xml")
    XCTAssertEqual(response.headers.first(name: "content-type"), "text/plain", "the stylesheet's media type")
  }

  func testResponseEntriesAreChosenByTheirMatchers() async throws {
    let missing = try await send(.GET, gateway.base + "/status/404", host: "shop.test")
    XCTAssertEqual(missing.status, 404, "the upstream's status is kept")
    XCTAssertEqual(missing.body, "not found (404)")
  }

  func testARequestWithoutABodyGoesAsItIs() async throws {
    let response = try await send(.GET, gateway.base + "/both", host: "shop.test")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.body, "0|", "no body, no content type: nothing was made up")
  }

  func testApplyBeforeAuthRunsBeforeTheWAF() async throws {
    let early = try await send(
      .POST, gateway.base + "/staged", host: "shop.test",
      headers: [("content-type", "application/xml"), ("x-stage", "early")], body: order)
    XCTAssertEqual(early.status, 403, "the WAF read the transformed body")
    let length = #"<o id="7">TRANSFORMED</o>"#.utf8.count + 1
    // Several times: on a reused upstream connection too, the rewritten body goes with its length.
    for _ in 0..<3 {
      let late = try await send(
        .POST, gateway.base + "/staged", host: "shop.test", headers: [("content-type", "application/xml")],
        body: order)
      XCTAssertEqual(late.status, 200, "the WAF read the body as the client sent it")
      XCTAssertEqual(late.json["bodyBytes"] as? Int, length)
      XCTAssertEqual(late.upstreamHeader("content-length"), [String(length)])
      XCTAssertNil(late.upstreamHeader("transfer-encoding"))
    }
  }

  func testHostileXMLIsRefusedQuicklyAndTheGatewayKeepsServing() async throws {
    var laughs = "<?xml version=\"1.0\"?><!DOCTYPE order [<!ENTITY l0 \"ha\">"
    for level in 1...15 {
      laughs += "<!ENTITY l\(level) \"" + String(repeating: "&l\(level - 1);", count: 10) + "\">"
    }
    laughs += "]><order><id>&l15;</id></order>"
    let started = Date()
    let refused = try await send(.POST, gateway.base + "/both", host: "shop.test", body: laughs)
    XCTAssertEqual(refused.status, 400)
    XCTAssertTrue(refused.body.contains("document type declaration"), refused.body)
    XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    let fine = try await send(.POST, gateway.base + "/both", host: "shop.test", body: order)
    XCTAssertEqual(fine.status, 200)
  }

  func testACompressedRequestBodyIsRefused() async throws {
    let response = try await send(
      .POST, gateway.base + "/both", host: "shop.test", headers: [("content-encoding", "gzip")], body: order)
    XCTAssertEqual(response.status, 415)
  }

  func testBodiesPastTheRoutesBoundAreRefusedAndCounted() async throws {
    let response = try await send(.GET, gateway.base + "/bytes/5000", host: "shop.test")
    XCTAssertEqual(response.status, 502, "the upstream's response cannot be transformed whole")
    let request = try await send(
      .POST, gateway.base + "/both", host: "shop.test", body: String(repeating: "x", count: 1_100_000))
    XCTAssertEqual(request.status, 413)
    let bad = try await send(.POST, gateway.base + "/both", host: "shop.test", body: "<order>")
    XCTAssertEqual(bad.status, 400)
    let metrics = try await send(
      .GET, "http://127.0.0.1:\(gateway.adminPort)/stats/prometheus", host: "admin"
    ).body
    for series in [
      #"portico_filter_bodies_too_large_total{direction="response"} 1"#,
      #"portico_filter_bodies_too_large_total{direction="request"} 1"#,
      #"portico_transformations_total{transformation="VirtualHost apps/shop-test route shop-test-0",direction="request",outcome="failed"} 1"#,
    ] {
      XCTAssertTrue(metrics.contains(series), "\(series) in\n\(metrics)")
    }
  }

  func testOtherRoutesAreNotTouched() async throws {
    let response = try await send(.POST, gateway.base + "/plain", host: "shop.test", body: order)
    XCTAssertEqual(response.json["bodyBytes"] as? Int, order.utf8.count)
  }
}
