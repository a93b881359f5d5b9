import PorticoXSLT
import XCTest

final class JSONToXMLTests: XCTestCase {
  private let ns = "xmlns=\"http://www.w3.org/2005/xpath-functions\""

  private func xml(_ json: String) throws -> String {
    String(decoding: try JSONToXML.convert(Array(json.utf8)), as: UTF8.self)
  }

  func testObjectMembersInTheOrderWritten() throws {
    XCTAssertEqual(
      try xml(#"{"z": 1, "a": "text", "m": [true, false, null], "o": {}}"#),
      "<map \(ns)><number key=\"z\">1</number><string key=\"a\">text</string>"
        + "<array key=\"m\"><boolean>true</boolean><boolean>false</boolean><null/></array>"
        + "<map key=\"o\"></map></map>")
  }

  func testScalarsAtTheTop() throws {
    XCTAssertEqual(try xml(#"  "x"  "#), "<string \(ns)>x</string>")
    XCTAssertEqual(try xml("-12.50e+3"), "<number \(ns)>-12.50e+3</number>")
    XCTAssertEqual(try xml("[]"), "<array \(ns)></array>")
    XCTAssertEqual(try xml("null"), "<null \(ns)/>")
  }

  func testEscapesAreDecodedAndXMLCharactersEscaped() throws {
    XCTAssertEqual(
      try xml(#"{"a<b": "x & \"y\" <z> \u00e9 \ud83d\ude00 \n\r\t \u0001 \ud800"}"#),
      "<map \(ns)><string key=\"a&lt;b\">x &amp; &quot;y&quot; &lt;z&gt; é 😀 \n&#13;\t \u{FFFD} \u{FFFD}</string></map>"
    )
  }

  func testKeysKeepTheirWhitespace() throws {
    XCTAssertEqual(try xml(#"{"a\tb\nc": 1}"#), "<map \(ns)><number key=\"a&#9;b&#10;c\">1</number></map>")
  }

  func testInvalidJSONSaysWhere() {
    for (text, offset) in [
      ("{", 1), (#"{"a" 1}"#, 5), ("[1,]", 3), ("01", 1), ("1.", 2), ("tru", 0), (#""\x""#, 3), ("{} x", 3),
      ("\"a\u{1}\"", 3), ("", 0),
    ] {
      XCTAssertThrowsError(try JSONToXML.convert(Array(text.utf8)), text) { error in
        XCTAssertEqual((error as? JSONToXMLError)?.offset, offset, "\(text): \(error)")
      }
    }
  }

  func testDepthIsBounded() throws {
    let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
    XCTAssertThrowsError(try JSONToXML.convert(Array(deep.utf8)))
    let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
    XCTAssertNoThrow(try JSONToXML.convert(Array(fine.utf8)))
  }

  func testInvalidUTF8IsRefused() {
    XCTAssertThrowsError(try JSONToXML.convert([0x22, 0xFF, 0x22]))
  }
}
