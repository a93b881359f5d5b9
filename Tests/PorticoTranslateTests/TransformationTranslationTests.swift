import PorticoAPI
import XCTest

@testable import PorticoTranslate

/// `transformations` resolved: stylesheets compiled once per translation and shared, entries kept in
/// order with their stage, and a stylesheet that does not compile an error on its field (naming its line)
/// that replaces the routes it reaches, never lets them through untransformed.
final class TransformationTranslationTests: XCTestCase {
  static let stylesheet = """
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:template match="/"><out/></xsl:template>
    </xsl:stylesheet>
    """

  private func quoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "'", with: "''") + "'"
  }

  private func translation(hostOptions: String = "", routeOptions: String) -> Translation {
    translate(
      host(
        "shop", domain: "shop.test", options: hostOptions,
        routes: """
            - name: soap
              matchers: [{uri: {prefix: /soap}}]
              options: \(routeOptions)
              routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
            - name: other
              matchers: [{uri: {prefix: /other}}]
              options: \(routeOptions)
              routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
          \(forward("open", "{uri: {prefix: /}}"))
          """))
  }

  func testEntriesAreResolvedInOrderAndStylesheetsShared() throws {
    let options = """
      {transformations: {request: [{matchers: [{headers: [{name: x-early}]}], applyBeforeAuth: true, \
      transformation: {xsltTransformation: {xslt: \(quoted(Self.stylesheet)), nonXmlTransform: true}}}, \
      {transformation: {xsltTransformation: {xslt: \(quoted(Self.stylesheet)), setContentType: text/xml}}}], \
      response: [{matchers: [{headers: [{name: ":status", value: "500"}], responseCodeDetails: via_upstream}], \
      transformation: {xsltTransformation: {xslt: \(quoted(Self.stylesheet))}}}]}}
      """
    let result = translation(routeOptions: options)
    let routes = result.routes(of: "shop.test")
    let config = try XCTUnwrap(
      routes[0].transformations, "\(result.status(.virtualHost, "apps", "shop")?.errors ?? [])")
    XCTAssertEqual(config.request.map(\.applyBeforeAuth), [true, false])
    XCTAssertEqual(config.request[0].matchers.count, 1)
    XCTAssertTrue(config.request[1].matchers.isEmpty)
    XCTAssertEqual(config.response[0].matchers.first?.responseCodeDetails, "via_upstream")
    XCTAssertTrue(config.hasEarlyRequests && config.hasLateRequests)
    guard case .xslt(let first) = config.request[0].transformation,
      case .xslt(let second) = config.request[1].transformation,
      case .xslt(let other) = try XCTUnwrap(routes[1].transformations).request[0].transformation
    else { return XCTFail() }
    XCTAssertTrue(first.stylesheet === second.stylesheet, "one compiled stylesheet per text")
    XCTAssertTrue(first.stylesheet === other.stylesheet, "shared by every route")
    XCTAssertTrue(first.nonXmlTransform)
    XCTAssertEqual(second.setContentType, "text/xml")
    XCTAssertNil(routes[2].transformations)
  }

  func testAStylesheetThatDoesNotCompileReplacesTheRoutesItReaches() throws {
    let broken = """
      <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
        <xsl:template match="/">
          <xsl:frobnicate/>
        </xsl:template>
      </xsl:stylesheet>
      """
    // Kept on several lines, so that the report can name the stylesheet's own line.
    let options = """

                  transformations:
                    request:
                    - transformation:
                        xsltTransformation:
                          xslt: |
      \(broken.split(separator: "\n").map { "                      " + $0 }.joined(separator: "\n"))
      """
    let result = translation(routeOptions: options)
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes[0].directStatus, 500, "replaced, not served untransformed")
    XCTAssertEqual(routes[2].upstreams, ["static:apps/backend"], "routes without it keep working")
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    let error = try XCTUnwrap(status.errors.first)
    XCTAssertEqual(
      error.path.description, "transformations.request[0].transformation.xsltTransformation.xslt")
    XCTAssertTrue(error.message.contains("does not compile"), error.message)
    XCTAssertTrue(error.message.contains("frobnicate"), error.message)
    XCTAssertTrue(error.message.contains("line 3"), error.message)
    XCTAssertNotNil(error.location?.line)
  }

  func testValidationNamesWhatIsMissing() throws {
    let result = translation(
      routeOptions: """
        {transformations: {request: [{matchers: []}, {transformation: {xsltTransformation: {xslt: " "}}}], \
        response: [{transformation: {xsltTransformation: {xslt: x}, injaTemplateTransformation: {}}}, \
        {matchers: [{responseCodeDetails: upstream_reset}], transformation: {xsltTransformation: {xslt: \
        \(quoted(Self.stylesheet))}}}]}}
        """)
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    let paths = Set(status.errors.map(\.path.description))
    let prefix = "spec.routes[0].options.transformations."
    for expected in [
      "request[0].transformation", "request[1].transformation.xsltTransformation.xslt",
      "response[0].transformation", "response[1].matchers[0].responseCodeDetails",
    ] {
      XCTAssertTrue(paths.contains(prefix + expected), "\(expected) in \(paths)")
    }
    XCTAssertEqual(result.routes(of: "shop.test")[0].directStatus, 500)
  }

  /// Inja templates are parsed where the manifest is read: a template that does not parse is an error on
  /// its field, naming its line and column, as are extractors and body modes that cannot work.
  func testTemplatesAreParsedAtLoad() throws {
    let result = translation(
      routeOptions: """
        {transformations: {request: [{transformation: {injaTemplateTransformation: {\
        extractors: {id: {header: ":path", regex: "/orders/([0-9]+)", subgroup: 2}, both: {header: a, body: {}, regex: x}}, \
        headers: {x-order: {text: "{{ extraction(\\"id\\") }}"}, x-bad: {text: "{{ nope(1) }}"}}, \
        headersToAppend: [{key: x-more, value: {text: "{% if x %}"}}], \
        body: {text: "ok"}, passthrough: {}, parseBodyBehavior: Sometimes}}}]}}
        """)
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    let prefix = "spec.routes[0].options.transformations.request[0].transformation.injaTemplateTransformation"
    let errors = Dictionary(
      status.errors.map { ($0.path.description, $0.message) }, uniquingKeysWith: { first, _ in first })
    XCTAssertTrue(
      errors[prefix + ".headers.x-bad.text"]?.contains("line 1, column 4: unknown function 'nope'") ?? false,
      "\(errors)")
    XCTAssertNil(errors[prefix + ".headers.x-order.text"])
    XCTAssertTrue(
      errors[prefix + ".headersToAppend[0].value.text"]?.contains("ends before") ?? false, "\(errors)")
    XCTAssertEqual(errors[prefix + ".extractors.id.subgroup"], "the regex has 1 groups")
    XCTAssertEqual(errors[prefix + ".extractors.both"], "give one of header, body")
    XCTAssertNotNil(errors[prefix])
    XCTAssertNotNil(errors[prefix + ".parseBodyBehavior"])
    XCTAssertEqual(result.routes(of: "shop.test")[0].directStatus, 500)
  }
}
