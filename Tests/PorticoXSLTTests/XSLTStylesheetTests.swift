import Foundation
import PorticoXSLT
import XCTest

final class XSLTStylesheetTests: XCTestCase {
  private static let copyName = """
    <?xml version="1.0"?>
    <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:output method="xml" omit-xml-declaration="yes"/>
      <xsl:template match="/">
        <greeting><xsl:value-of select="concat('hello ', /person/name)"/></greeting>
      </xsl:template>
    </xsl:stylesheet>
    """

  private func apply(_ stylesheet: XSLTStylesheet, _ document: String) throws -> String {
    String(decoding: try stylesheet.apply(to: Array(document.utf8)), as: UTF8.self)
  }

  func testTransformsADocument() throws {
    let stylesheet = try XSLTStylesheet(Self.copyName)
    XCTAssertEqual(
      try apply(stylesheet, "<person><name>Ada</name></person>"), "<greeting>hello Ada</greeting>\n")
  }

  func testTextOutputAndItsMediaType() throws {
    let stylesheet = try XSLTStylesheet(
      """
      <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
        <xsl:output method="text" media-type="application/json"/>
        <xsl:template match="/">{"n": <xsl:value-of select="count(//item)"/>}</xsl:template>
      </xsl:stylesheet>
      """)
    XCTAssertEqual(stylesheet.mediaType, "application/json")
    XCTAssertEqual(try apply(stylesheet, "<list><item/><item/></list>"), #"{"n": 2}"#)
  }

  func testAStylesheetThatIsNotWellFormedNamesItsLine() {
    XCTAssertThrowsError(
      try XSLTStylesheet(
        """
        <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
          <xsl:template match="/">
            <a></b>
          </xsl:template>
        </xsl:stylesheet>
        """)
    ) { error in
      let report = (error as? XSLTError)?.report ?? ""
      XCTAssertTrue(report.contains("line 3"), report)
    }
  }

  func testAnUnknownInstructionAndABadExpressionAreRefused() {
    for body in [
      "<xsl:frobnicate/>", #"<xsl:value-of select="1 +"/>"#, #"<xsl:apply-templates select="///"/>"#,
    ] {
      XCTAssertThrowsError(
        try XSLTStylesheet(
          """
          <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
            <xsl:template match="/">\(body)</xsl:template>
          </xsl:stylesheet>
          """), body
      ) { error in
        XCTAssertEqual((error as? XSLTError)?.kind, .stylesheet)
        XCTAssertFalse((error as? XSLTError)?.report.isEmpty ?? true)
      }
    }
    XCTAssertThrowsError(try XSLTStylesheet("<not-a-stylesheet/>"))
  }

  func testMalformedInputIsReported() throws {
    let stylesheet = try XSLTStylesheet(Self.copyName)
    XCTAssertThrowsError(try apply(stylesheet, "<person><name>Ada</person>")) { error in
      XCTAssertEqual((error as? XSLTError)?.kind, .malformed)
      XCTAssertTrue((error as? XSLTError)?.report.contains("line 1") ?? false, "\(error)")
    }
    XCTAssertThrowsError(try apply(stylesheet, "")) { error in
      XCTAssertEqual((error as? XSLTError)?.kind, .malformed)
    }
  }

  func testTooDeepADocumentIsRefused() throws {
    let stylesheet = try XSLTStylesheet(Self.copyName)
    let deep = String(repeating: "<a>", count: 5000) + String(repeating: "</a>", count: 5000)
    XCTAssertThrowsError(try apply(stylesheet, deep)) { error in
      XCTAssertEqual((error as? XSLTError)?.kind, .malformed)
    }
  }

  /// Billion laughs, quadratic blowup and external entities all need a DTD: none is ever read.
  func testDocumentTypeDeclarationsAreRefusedUnread() throws {
    let stylesheet = try XSLTStylesheet(Self.copyName)
    let secret = FileManager.default.temporaryDirectory.appendingPathComponent("portico-xxe-\(UUID())")
    try "top secret".write(to: secret, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: secret) }
    var laughs = "<!DOCTYPE person [<!ENTITY l0 \"ha\">"
    for level in 1...12 {
      laughs += "<!ENTITY l\(level) \"" + String(repeating: "&l\(level - 1);", count: 10) + "\">"
    }
    laughs += "]><person><name>&l12;</name></person>"
    let blowup =
      "<!DOCTYPE person [<!ENTITY a \"" + String(repeating: "x", count: 50_000) + "\">]><person><name>"
      + String(repeating: "&a;", count: 50_000) + "</name></person>"
    let external =
      "<!DOCTYPE person [<!ENTITY s SYSTEM \"\(secret.absoluteString)\">]><person><name>&s;</name></person>"
    for document in [laughs, blowup, external] {
      let started = Date()
      XCTAssertThrowsError(try apply(stylesheet, document)) { error in
        XCTAssertEqual((error as? XSLTError)?.kind, .doctype)
        XCTAssertFalse((error as? XSLTError)?.report.contains("top secret") ?? true)
      }
      XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
    }
  }

  /// `document()` reads neither files nor URLs: the transformation fails, and no connection is made.
  func testDocumentFunctionReadsNothing() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    for target in ["file:///etc/hostname", "http://127.0.0.1:\(listener.port)/doc.xml"] {
      let stylesheet = try XSLTStylesheet(
        """
        <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
          <xsl:output method="text"/>
          <xsl:template match="/">[<xsl:value-of select="document('\(target)')"/>]</xsl:template>
        </xsl:stylesheet>
        """)
      let output = try? apply(stylesheet, "<a/>")
      // Either the stylesheet fails, or document() gave an empty node-set: never the resource's text.
      XCTAssertTrue(output == nil || output == "[]", output ?? "")
    }
    XCTAssertEqual(listener.acceptedConnections(), 0)
  }

  func testAStylesheetIsSharedByThreads() throws {
    let stylesheet = try XSLTStylesheet(Self.copyName)
    let failures = Atomic(0)
    DispatchQueue.concurrentPerform(iterations: 8) { thread in
      for round in 0..<200 {
        let name = "n\(thread)-\(round)"
        let output = (try? stylesheet.apply(to: Array("<person><name>\(name)</name></person>".utf8)))
          .map { String(decoding: $0, as: UTF8.self) }
        if output != "<greeting>hello \(name)</greeting>\n" { failures.add(1) }
      }
    }
    XCTAssertEqual(failures.load(), 0)
  }
}

/// A counter several threads add to.
private final class Atomic: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Int
  init(_ value: Int) { self.value = value }
  func add(_ amount: Int) { lock.withLock { value += amount } }
  func load() -> Int { lock.withLock { value } }
}

/// A TCP socket listening on loopback, to show that nothing connects to it.
private final class LoopbackListener {
  private let socket: Int32
  let port: Int

  init() throws {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.socket = socket
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(socket, $0, length) == 0 && listen(socket, 8) == 0 && getsockname(socket, $0, &length) == 0
      }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    port = Int(UInt16(bigEndian: address.sin_port))
    _ = fcntl(socket, F_SETFL, O_NONBLOCK)
  }

  func acceptedConnections() -> Int {
    var count = 0
    while case let client = accept(socket, nil, nil), client >= 0 {
      count += 1
      Glibc.close(client)
    }
    return count
  }

  func close() { Glibc.close(socket) }
}
