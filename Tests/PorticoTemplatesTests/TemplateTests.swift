import PorticoTemplates
import XCTest

/// A message for templates: headers, extractions and a parsed body.
private struct Message: TemplateMessage {
  var headers: [String: String] = [:]
  var requestHeaders: [String: String] = [:]
  var extractions: [String: String] = [:]
  var body = ""
  var context: TemplateValue = .null

  func header(_ name: String) -> String? { headers[name.lowercased()] }
  func requestHeader(_ name: String) -> String? { requestHeaders[name.lowercased()] }
  func extraction(_ name: String) -> String? { extractions[name] }
}

final class TemplateTests: XCTestCase {
  private let order: TemplateValue = .object(
    TemplateObject([
      ("id", .number(7)), ("customer", .object(TemplateObject([("name", .string("Ada"))]))),
      ("items", .array([.string("tea"), .string("cake")])), ("paid", .bool(false)), ("note", .null),
    ]))

  private func render(_ text: String, _ message: Message = Message()) throws -> String {
    try Template(text).render(for: message)
  }

  func testVariablesMembersAndIndexes() throws {
    let message = Message(context: order)
    XCTAssertEqual(
      try render("{{ id }} {{ customer.name }} {{ items.1 }} {{ items }}", message),
      #"7 Ada cake ["tea","cake"]"#)
    XCTAssertEqual(try render("[{{ missing }}][{{ customer.age }}][{{ note }}]", message), "[][][]")
  }

  func testConditionsAndOperators() throws {
    let message = Message(context: order)
    XCTAssertEqual(
      try render("{% if paid %}paid{% else if id > 5 and not paid %}due{% else %}?{% endif %}", message),
      "due")
    XCTAssertEqual(try render("{% if id == 7 or missing %}yes{% endif %}", message), "yes")
    XCTAssertEqual(try render(#"{% if "tea" in items %}tea{% endif %}"#, message), "tea")
    XCTAssertEqual(try render("{{ id * 2 + 1 }} {{ 7 / 2 }} {{ 7 % 4 }} {{ -id }}", message), "15 3.5 3 -7")
    XCTAssertEqual(try render("{{ id >= 7 }} {{ id != 7 }} {{ (1 + 2) * 3 }}", message), "true false 9")
  }

  func testLoops() throws {
    let message = Message(context: order)
    XCTAssertEqual(
      try render(
        "{% for item in items %}{{ loop.index1 }}.{{ item }}{% if not loop.is_last %}, {% endif %}{% endfor %}",
        message),
      "1.tea, 2.cake")
    XCTAssertEqual(
      try render("{% for key, value in customer %}{{ key }}={{ value }}{% endfor %}", message), "name=Ada")
    XCTAssertEqual(try render("{% set total = length(items) %}{{ total }} items", message), "2 items")
  }

  func testInjaBuiltIns() throws {
    let message = Message(context: order)
    XCTAssertEqual(
      try render("{{ upper(customer.name) }} {{ lower(\"AB\") }} {{ length(items) }}", message), "ADA ab 2")
    XCTAssertEqual(try render("{{ default(note, \"none\") }} {{ default(id, 0) }}", message), "none 7")
    XCTAssertEqual(
      try render("{{ exists(\"customer.name\") }} {{ exists(\"nope\") }}", message), "true false")
    XCTAssertEqual(
      try render("{{ first(items) }} {{ last(items) }} {{ join(items, \"+\") }}", message),
      "tea cake tea+cake")
    XCTAssertEqual(
      try render("{{ round(3.14159, 2) }} {{ int(\"42\") }} {{ items | join(\"/\") }}", message),
      "3.14 42 tea/cake")
  }

  func testMessageFunctions() throws {
    let message = Message(
      headers: ["x-user": "ada"], requestHeaders: [":path": "/orders/7"], extractions: ["order": "7"],
      body: #"{"id": 7}"#, context: order)
    XCTAssertEqual(try render(#"{{ header("X-User") }}|{{ header("absent") }}|"#, message), "ada||")
    XCTAssertEqual(
      try render(#"{{ request_header(":path") }} {{ extraction("order") }}"#, message), "/orders/7 7")
    XCTAssertEqual(try render("{{ body() }}", message), #"{"id": 7}"#)
    XCTAssertEqual(try render("{{ length(context()) }} {{ at(context(), \"id\") }}", message), "5 7")
    XCTAssertEqual(
      try render(#"{{ base64_encode("hi there") }} {{ base64_decode("aGkgdGhlcmU=") }}"#),
      "aGkgdGhlcmU= hi there")
    XCTAssertEqual(
      try render(#"{{ substring("gateway", 3) }} {{ substring("gateway", 0, 4) }} {{ substring("ab", 5) }}"#),
      "eway gate ")
    XCTAssertEqual(try render(#"[{{ trim("  a b \n") }}]"#), "[a b]")
    XCTAssertEqual(try render(#"{{ replace_all("a-b-c", "-", "+") }}"#), "a+b+c")
    XCTAssertEqual(try render(#"{{ raw_string("say \"hi\"\n") }}"#), #"say \"hi\"\n"#)
    XCTAssertEqual(try render(#"{{ word_count(" one two  three ") }}"#), "3")
  }

  func testErrorsAtParseTimeNameLineAndColumn() {
    for (text, line, column, message) in [
      ("a\n{{ nope(1) }}", 2, 4, "unknown function 'nope'"),
      ("{{ header() }}", 1, 4, "header takes 1 arguments, not 0"),
      ("{% if x %}open", 1, 15, "ends before"),
      ("{{ 1 + }}", 1, 8, "unexpected '}'"),
      ("{% endif %}", 1, 9, "unexpected"),
      ("{% while x %}", 1, 9, "unknown statement 'while'"),
    ] {
      XCTAssertThrowsError(try Template(text), text) { error in
        guard let error = error as? TemplateError else { return XCTFail("\(error)") }
        XCTAssertEqual(error.line, line, "\(text): \(error)")
        XCTAssertEqual(error.column, column, "\(text): \(error)")
        XCTAssertTrue(error.message.contains(message), "\(text): \(error)")
      }
    }
  }

  func testCommentsAndPlainText() throws {
    XCTAssertEqual(try render("a{# not shown #}b { c } %"), "ab { c } %")
  }
}
