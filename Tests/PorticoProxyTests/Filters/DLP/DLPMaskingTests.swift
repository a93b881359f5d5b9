import Foundation
import NIOCore
import NIOEmbedded
import PorticoTranslate
import XCTest

@testable import PorticoProxy

/// DLP masking as a response streams through the filter: each predefined action on the test numbers card
/// networks publish (all pass Luhn), in JSON and HTML, split across pieces at every position; numbers that
/// fail Luhn left alone; custom patterns with their mask character and percentage; shadow mode.
final class DLPMaskingTests: XCTestCase {
  let loop = try! embeddedLoopContext(EmbeddedEventLoop())

  static func action(_ type: String, shadow: Bool = false) -> DLPConfig.Action {
    DLPConfig.Action(type: type, name: type, patterns: [], maskCharacter: "X", percent: 75, shadow: shadow)
  }

  /// The body as the client gets it, given to the filter in pieces cut at `cuts`.
  func masked(_ body: String, _ actions: [DLPConfig.Action], cuts: [Int] = []) throws -> String {
    try masked(Array(body.utf8), actions, cuts: cuts).body
  }

  /// The same for a body in `encoding`, with the run to read the response's edits from.
  func masked(
    _ bytes: [UInt8], _ actions: [DLPConfig.Action], encoding: String? = nil, cuts: [Int] = [],
    passingUnreadable: Bool = false
  ) throws -> (body: String, run: FilterRun, host: RecordingHost) {
    let filter = DLPFilter(
      DLPConfig(setBy: "test", rules: [.init(actions: actions)], passesUnreadableBodies: passingUnreadable))
    let host = RecordingHost()
    let run = try filterRun(
      [filter], head: "GET /account HTTP/1.1\r\nHost: shop.test", loop: loop, host: host)
    run.start()
    var fields = [("content-type", "application/json")]
    if let encoding { fields.append(("content-encoding", encoding)) }
    run.responseHead(ResponseView(answer: LocalAnswer(status: 200, fields: fields)))
    var start = 0
    for cut in cuts.sorted() where cut > start && cut < bytes.count {
      run.responseBody(ByteBuffer(bytes: bytes[start..<cut]))
      start = cut
    }
    run.responseBody(ByteBuffer(bytes: bytes[start...]))
    run.responseEnd(nil)
    return (host.responseBody, run, host)
  }

  /// `text` compressed by the system's gzip.
  static func gzipped(_ text: String) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
  }

  func testGzipBodiesAreInflatedMaskedAndSentPlain() throws {
    let plain =
      #"{"cards": ["4111 1111 1111 1111", "378282246310005"], "note": ""#
      + String(repeating: "padding ", count: 200) + #""}"#
    let compressed = try Self.gzipped(plain)
    for cuts in [[], [10], [compressed.count / 2], Array(stride(from: 3, to: compressed.count, by: 5))] {
      let result = try masked(compressed, [Self.action("ALL_CREDIT_CARDS")], encoding: "gzip", cuts: cuts)
      XCTAssertEqual(
        result.body,
        plain.replacingOccurrences(of: "4111 1111 1111 1111", with: "XXXX XXXX XXXX 1111")
          .replacingOccurrences(of: "378282246310005", with: "XXXXXXXXXXX0005"))
      XCTAssertTrue(result.run.responseHeaders.removes("content-encoding"))
    }
  }

  func testBodiesInACodingDLPCannotReadAreRefused() throws {
    let result = try masked(Array("not really brotli".utf8), [Self.action("VISA")], encoding: "br")
    XCTAssertTrue(
      result.host.events.contains(
        .answered(502, "the upstream's response is in an encoding DLP cannot read\n")))
  }

  /// A custom match that runs on through every piece is not held without end: what is kept for the next
  /// piece stays within the carry's bound, and all of the value is masked all the same.
  func testARunawayCustomMatchIsMaskedWithoutHoldingTheBodyBack() throws {
    let letters = DLPConfig.Action(
      type: "CUSTOM", name: "letters", patterns: ["[a-z]+"], maskCharacter: "#", percent: 100, shadow: false)
    let filter = DLPFilter(DLPConfig(setBy: "test", rules: [.init(actions: [letters])]))
    let host = RecordingHost()
    let run = try filterRun(
      [filter], head: "GET /account HTTP/1.1\r\nHost: shop.test", loop: loop, host: host)
    run.start()
    run.responseHead(ResponseView(answer: LocalAnswer(status: 200, fields: [("content-type", "text/plain")])))
    for _ in 0..<100 {
      run.responseBody(ByteBuffer(string: String(repeating: "a", count: 100)))
      XCTAssertLessThanOrEqual(run.dlp?.carry.count ?? 0, DLPFilter.carryLimit + 100)
    }
    run.responseEnd(nil)
    XCTAssertEqual(host.responseBody, String(repeating: "#", count: 10_000))
  }

  /// `unreadableBodies: PASS_UNMASKED`: such a body goes on as it came, with its coding, and is counted.
  func testBodiesInACodingDLPCannotReadPassWhenConfiguredSo() throws {
    let body = "4111 1111 1111 1111 in brotli"
    let result = try masked(Array(body.utf8), [Self.action("VISA")], encoding: "br", passingUnreadable: true)
    XCTAssertEqual(result.body, body)
    XCTAssertFalse(result.host.events.contains { if case .answered = $0 { true } else { false } })
    XCTAssertFalse(result.run.responseHeaders.removes("content-encoding"))
  }

  static let cards: [(type: String, number: String, masked: String)] = [
    ("VISA", "4111 1111 1111 1111", "XXXX XXXX XXXX 1111"),
    ("MASTERCARD", "5555-5555-5555-4444", "XXXX-XXXX-XXXX-4444"),
    ("AMEX", "378282246310005", "XXXXXXXXXXX0005"),
    ("DISCOVER", "6011111111111117", "XXXXXXXXXXXX1117"),
    ("JCB", "3530111333300000", "XXXXXXXXXXXX0000"),
    ("DINERS_CLUB", "30569309025904", "XXXXXXXXXX5904"),
  ]

  func testEachBrandIsMaskedInJSONAndHTML() throws {
    for card in Self.cards {
      let json = #"{"card": "\#(card.number)", "name": "Ada"}"#
      XCTAssertEqual(
        try masked(json, [Self.action(card.type)]), #"{"card": "\#(card.masked)", "name": "Ada"}"#, card.type)
      let html = "<td>\(card.number)</td>"
      XCTAssertEqual(
        try masked(html, [Self.action("ALL_CREDIT_CARDS")]), "<td>\(card.masked)</td>", card.type)
    }
  }

  func testABrandActionLeavesOtherBrands() throws {
    XCTAssertEqual(
      try masked("4111111111111111 378282246310005", [Self.action("AMEX")]),
      "4111111111111111 XXXXXXXXXXX0005")
  }

  func testNumbersThatFailLuhnOrAreLongerAreLeftAlone() throws {
    let body = "order 4111111111111112, id 41111111111111110000, phone 5555555555554444x"
    XCTAssertEqual(try masked(body, [Self.action("ALL_CREDIT_CARDS")]), body)
  }

  func testSocialSecurityNumbersKeepTheirLastFour() throws {
    XCTAssertEqual(try masked("ssn: 123-45-6789.", [Self.action("SSN")]), "ssn: XXX-XX-6789.")
    XCTAssertEqual(try masked("id 1123-45-67890", [Self.action("SSN")]), "id 1123-45-67890")
  }

  func testTrackDataIsMasked() throws {
    let body = "track=;4111111111111111=2512101000000000?"
    let result = try masked(body, [Self.action("CREDIT_CARD_TRACKERS")])
    XCTAssertFalse(result.contains("4111111111111111"), result)
    XCTAssertTrue(result.hasSuffix("0000?"), result)
  }

  func testValuesSplitAcrossPiecesAreFoundAtEveryCut() throws {
    let body =
      String(repeating: "a", count: 300) + #" {"card": "4111 1111 1111 1111", "ssn": "123-45-6789"} "#
      + String(repeating: "b", count: 300)
    let expected =
      String(repeating: "a", count: 300) + #" {"card": "XXXX XXXX XXXX 1111", "ssn": "XXX-XX-6789"} "#
      + String(repeating: "b", count: 300)
    let actions = [Self.action("ALL_CREDIT_CARDS"), Self.action("SSN")]
    for cut in 290..<360 {
      XCTAssertEqual(try masked(body, actions, cuts: [cut]), expected, "cut at \(cut)")
    }
    XCTAssertEqual(try masked(body, actions, cuts: Array(stride(from: 1, to: 700, by: 7))), expected)
  }

  func testCustomPatternsMaskTheirShareWithTheirCharacter() throws {
    let hello = DLPConfig.Action(
      type: "CUSTOM", name: "greeting", patterns: ["hello"], maskCharacter: "X", percent: 75, shadow: false)
    XCTAssertEqual(try masked("say hello!", [hello]), "say XXXXo!")
    let token = DLPConfig.Action(
      type: "CUSTOM", name: "token", patterns: [#"tok_[a-z0-9]+"#], maskCharacter: "#", percent: 50,
      shadow: false)
    XCTAssertEqual(try masked("key tok_abcdef12", [token]), "key ######cdef12")
  }

  /// A custom mask that shortens the text (one mask character for each two-byte one) moves what follows
  /// it: the actions after it still find their values, wherever the body is cut.
  func testActionsAfterALengthChangingMaskFindTheirValues() throws {
    let accents = DLPConfig.Action(
      type: "CUSTOM", name: "accents", patterns: ["é+"], maskCharacter: "X", percent: 100, shadow: false)
    let body =
      String(repeating: "é", count: 300) + " card 4111111111111111 end" + String(repeating: " ", count: 40)
    let expected =
      String(repeating: "X", count: 300) + " card XXXXXXXXXXXX1111 end" + String(repeating: " ", count: 40)
    for cut in 300..<700 {
      XCTAssertEqual(
        try masked(body, [accents, Self.action("VISA")], cuts: [cut]), expected, "cut at \(cut)")
    }
  }

  func testShadowModeMasksNothing() throws {
    let body = "card 4111111111111111"
    XCTAssertEqual(try masked(body, [Self.action("VISA", shadow: true)]), body)
  }
}
