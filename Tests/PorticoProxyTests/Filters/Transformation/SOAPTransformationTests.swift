import Foundation
import NIOHTTP1
import XCTest

@testable import PorticoProxy

/// A REST client calls a SOAP service through `transformations`: its JSON body is read as XML
/// (`nonXmlTransform`) and rewritten into a SOAP 1.1 envelope, the route's header manipulation adds the
/// `SOAPAction`, and the service's envelope (or its fault) comes back as JSON. The service is a small SOAP
/// server of the test's own, which refuses what a SOAP server refuses (a wrong action or content type).
final class SOAPTransformationTests: XCTestCase {
  var service: PythonService!
  var gateway: TestGateway!

  static let serviceScript = #"""
    import http.server, sys
    import xml.etree.ElementTree as ET

    SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
    CALC = "urn:example:calculator"

    def envelope(body):
        return ('<?xml version="1.0"?><soap:Envelope xmlns:soap="%s"><soap:Body>%s</soap:Body></soap:Envelope>'
                % (SOAP, body)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("content-length", "0")))
            if not self.headers.get("content-type", "").startswith("text/xml"):
                return self.answer(415, b"not text/xml")
            action = self.headers.get("soapaction", "")
            try:
                operation = ET.fromstring(data).find("{%s}Body" % SOAP)[0]
            except Exception as error:
                return self.answer(400, str(error).encode())
            name = operation.tag.split("}")[-1]
            if action != '"%s#%s"' % (CALC, name):
                return self.answer(400, ("wrong SOAPAction %s" % action).encode())
            a = int(operation.find("{%s}a" % CALC).text)
            b = int(operation.find("{%s}b" % CALC).text)
            if name == "Divide" and b == 0:
                fault = ("<soap:Fault><faultcode>soap:Client</faultcode>"
                         "<faultstring>division by zero</faultstring></soap:Fault>")
                return self.answer(500, envelope(fault), "text/xml; charset=utf-8")
            result = a + b if name == "Add" else a // b
            body = '<c:%sResponse xmlns:c="%s"><c:result>%d</c:result></c:%sResponse>' % (name, CALC, result, name)
            self.answer(200, envelope(body), "text/xml; charset=utf-8")

        def answer(self, status, body, content_type="text/plain"):
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.send_header("x-received-soapaction", self.headers.get("soapaction", ""))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """#

  /// JSON `{"a": 1, "b": 2}` as `fn:json-to-xml` reads it, into a SOAP 1.1 call of the operation named by
  /// the stylesheet parameter-free template below.
  static func requestStylesheet(_ operation: String) -> String {
    """
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:fn="http://www.w3.org/2005/xpath-functions"
        xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:example:calculator">
      <xsl:output method="xml" omit-xml-declaration="yes"/>
      <xsl:template match="/fn:map">
        <soap:Envelope><soap:Body><c:\(operation)>
          <c:a><xsl:value-of select="fn:number[@key='a']"/></c:a>
          <c:b><xsl:value-of select="fn:number[@key='b']"/></c:b>
        </c:\(operation)></soap:Body></soap:Envelope>
      </xsl:template>
    </xsl:stylesheet>
    """
  }

  static let responseStylesheet = """
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:example:calculator">
      <xsl:output method="text"/>
      <xsl:template match="/">
        <xsl:choose>
          <xsl:when test="//soap:Fault">{"error": "<xsl:value-of select="//faultstring"/>"}</xsl:when>
          <xsl:otherwise>{"result": <xsl:value-of select="//c:result"/>}</xsl:otherwise>
        </xsl:choose>
      </xsl:template>
    </xsl:stylesheet>
    """

  static func route(_ operation: String) -> String {
    func indented(_ text: String) -> String {
      text.split(separator: "\n", omittingEmptySubsequences: false).map { "                " + $0 }
        .joined(separator: "\n")
    }
    return """
        - matchers: [{uri: {exact: /calc/\(operation.lowercased())}}]
          options:
            headerManipulation:
              appendRequestHeaders: {SOAPAction: '"urn:example:calculator#\(operation)"'}
            transformations:
              request:
              - transformation:
                  xsltTransformation:
                    nonXmlTransform: true
                    setContentType: text/xml; charset=utf-8
                    xslt: |
      \(indented(requestStylesheet(operation)))
              response:
              - transformation:
                  xsltTransformation:
                    setContentType: application/json
                    xslt: |
      \(indented(responseStylesheet))
          routeAction: {destinations: [{staticDestination: {name: soap}}]}
      """
  }

  override func setUp() async throws {
    service = try await PythonService(script: Self.serviceScript)
    gateway = try await TestGateway { [service] _ in
      gatewayManifest() + staticDestination("soap", ports: [service!.port])
        + virtualHost("calc.test", routes: Self.route("Add") + "\n" + Self.route("Divide"))
    }
  }

  override func tearDown() async throws {
    await gateway?.stop()
    await service?.stop()
  }

  func testJSONInSOAPToTheServiceJSONBack() async throws {
    let response = try await send(
      .POST, gateway.base + "/calc/add", host: "calc.test", headers: [("content-type", "application/json")],
      body: #"{"a": 40, "b": 2}"#)
    XCTAssertEqual(response.status, 200, response.body)
    XCTAssertEqual(response.body, #"{"result": 42}"#)
    XCTAssertEqual(response.headers.first(name: "content-type"), "application/json")
    XCTAssertEqual(response.headers.first(name: "x-received-soapaction"), #""urn:example:calculator#Add""#)
    XCTAssertEqual(response.headers.first(name: "content-length"), String(response.body.utf8.count))
  }

  func testASOAPFaultKeepsTheServicesStatus() async throws {
    let response = try await send(
      .POST, gateway.base + "/calc/divide", host: "calc.test",
      headers: [("content-type", "application/json")],
      body: #"{"a": 1, "b": 0}"#)
    XCTAssertEqual(response.status, 500)
    XCTAssertEqual(response.body, #"{"error": "division by zero"}"#)
  }

  func testABodyThatIsNotJSONIsRefusedWith400AndTheGatewayKeepsServing() async throws {
    let bad = try await send(
      .POST, gateway.base + "/calc/add", host: "calc.test", headers: [("content-type", "application/json")],
      body: #"{"a": 40,"#)
    XCTAssertEqual(bad.status, 400)
    XCTAssertTrue(bad.body.contains("could not be transformed"), bad.body)
    let good = try await send(
      .POST, gateway.base + "/calc/add", host: "calc.test", body: #"{"a": 1, "b": 2}"#)
    XCTAssertEqual(good.body, #"{"result": 3}"#)
  }

  func testABodyOverTheRoutesBoundIsRefusedWith413() async throws {
    let huge = #"{"a": 1, "b": 2, "pad": ""# + String(repeating: "x", count: 1_100_000) + #""}"#
    let response = try await send(.POST, gateway.base + "/calc/add", host: "calc.test", body: huge)
    XCTAssertEqual(response.status, 413)
  }
}
