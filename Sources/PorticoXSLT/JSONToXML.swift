import PorticoCore

/// A JSON text as the XML that XPath 3.1's `fn:json-to-xml` makes of it: `map`, `array`, `string`,
/// `number`, `boolean` and `null` elements in the `http://www.w3.org/2005/xpath-functions` namespace, each
/// member of an object with its name in a `key` attribute, in the order written. An XSLT 1.0 stylesheet can
/// then read a JSON body like any XML. Strings are unescaped (characters XML 1.0 cannot carry become
/// U+FFFD, as the function does without `escape`); numbers keep the form they were written in.
public enum JSONToXML {
  public static let namespace = "http://www.w3.org/2005/xpath-functions"
  /// Deeper nesting than libxml2 parses by default is refused here already.
  static let maximumDepth = 256

  public static func convert(_ json: UnsafeRawBufferPointer) throws(JSONToXMLError) -> [UInt8] {
    var reader = Reader(bytes: json)
    var xml: [UInt8] = []
    xml.reserveCapacity(json.count * 2 + 64)
    reader.skipWhitespace()
    try reader.value(key: nil, depth: 0, into: &xml)
    reader.skipWhitespace()
    guard reader.position == json.count else { throw reader.error("unexpected text after the JSON value") }
    return xml
  }

  public static func convert(_ json: [UInt8]) throws(JSONToXMLError) -> [UInt8] {
    try json.withUnsafeBytes { bytes in Result { () throws(JSONToXMLError) in try convert(bytes) } }.get()
  }
}

/// Why a body is not JSON, and where (a byte offset).
public struct JSONToXMLError: Error, Equatable, CustomStringConvertible {
  public let reason: String
  public let offset: Int

  public var description: String { "\(reason) at byte \(offset)" }
}

private struct Reader {
  let bytes: UnsafeRawBufferPointer
  var position = 0
  /// The root element carries the namespace; the others inherit it.
  var wroteRoot = false

  init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  func error(_ reason: String) -> JSONToXMLError { JSONToXMLError(reason: reason, offset: position) }

  var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
  }

  mutating func value(key: [UInt8]?, depth: Int, into xml: inout [UInt8]) throws(JSONToXMLError) {
    guard depth < JSONToXML.maximumDepth else { throw error("JSON nested too deeply") }
    guard let first = current else { throw error("unexpected end of the JSON text") }
    switch first {
    case UInt8(ascii: "{"):
      position += 1
      open("map", key: key, into: &xml)
      skipWhitespace()
      if current == UInt8(ascii: "}") {
        position += 1
      } else {
        while true {
          skipWhitespace()
          guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
          var name: [UInt8] = []
          try string(into: &name)
          skipWhitespace()
          guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
          position += 1
          skipWhitespace()
          try value(key: name, depth: depth + 1, into: &xml)
          skipWhitespace()
          if current == UInt8(ascii: ",") {
            position += 1
            continue
          }
          guard current == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
          position += 1
          break
        }
      }
      close("map", into: &xml)
    case UInt8(ascii: "["):
      position += 1
      open("array", key: key, into: &xml)
      skipWhitespace()
      if current == UInt8(ascii: "]") {
        position += 1
      } else {
        while true {
          skipWhitespace()
          try value(key: nil, depth: depth + 1, into: &xml)
          skipWhitespace()
          if current == UInt8(ascii: ",") {
            position += 1
            continue
          }
          guard current == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
          position += 1
          break
        }
      }
      close("array", into: &xml)
    case UInt8(ascii: "\""):
      var text: [UInt8] = []
      try string(into: &text)
      open("string", key: key, into: &xml)
      escape(text, into: &xml)
      close("string", into: &xml)
    case UInt8(ascii: "t"):
      try literal("true")
      element("boolean", key: key, text: "true", into: &xml)
    case UInt8(ascii: "f"):
      try literal("false")
      element("boolean", key: key, text: "false", into: &xml)
    case UInt8(ascii: "n"):
      try literal("null")
      open("null", key: key, selfClosing: true, into: &xml)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let start = position
      try number()
      open("number", key: key, into: &xml)
      xml.append(contentsOf: bytes[start..<position])
      close("number", into: &xml)
    default:
      throw error("unexpected character")
    }
  }

  private mutating func literal(_ word: StaticString) throws(JSONToXMLError) {
    let count = word.utf8CodeUnitCount
    guard position + count <= bytes.count,
      UnsafeRawBufferPointer(start: word.utf8Start, count: count).elementsEqual(
        bytes[position..<position + count])
    else { throw error("unexpected character") }
    position += count
  }

  /// RFC 8259 §6: `-? int frac? exp?`, with no leading zeros.
  private mutating func number() throws(JSONToXMLError) {
    if current == UInt8(ascii: "-") { position += 1 }
    guard let first = current, first.isASCIIDigit else { throw error("invalid number") }
    position += 1
    if first != UInt8(ascii: "0") { digits() }
    if current == UInt8(ascii: ".") {
      position += 1
      guard let byte = current, byte.isASCIIDigit else { throw error("invalid number") }
      digits()
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard let byte = current, byte.isASCIIDigit else { throw error("invalid number") }
      digits()
    }
  }

  private mutating func digits() {
    while let byte = current, byte.isASCIIDigit { position += 1 }
  }

  /// A JSON string's characters, unescaped, as UTF-8.
  private mutating func string(into text: inout [UInt8]) throws(JSONToXMLError) {
    position += 1
    while true {
      guard let byte = current else { throw error("unterminated string") }
      position += 1
      switch byte {
      case UInt8(ascii: "\""):
        guard String(validating: text, as: UTF8.self) != nil else { throw error("invalid UTF-8 in a string") }
        return
      case UInt8(ascii: "\\"):
        guard let escaped = current else { throw error("unterminated string") }
        position += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"): try unicodeEscape(into: &text)
        default: throw error("invalid escape")
        }
      case 0..<0x20:
        throw error("control character in a string")
      default:
        text.append(byte)
      }
    }
  }

  /// `\uXXXX`, a surrogate pair taken together; a lone surrogate becomes U+FFFD.
  private mutating func unicodeEscape(into text: inout [UInt8]) throws(JSONToXMLError) {
    var scalar = try hexQuad()
    if (0xD800..<0xDC00).contains(scalar), position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
      bytes[position + 1] == UInt8(ascii: "u")
    {
      let saved = position
      position += 2
      let low = try hexQuad()
      if (0xDC00..<0xE000).contains(low) {
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else {
        position = saved
      }
    }
    let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
    text.append(contentsOf: String(character).utf8)
  }

  private mutating func hexQuad() throws(JSONToXMLError) -> UInt32 {
    guard position + 4 <= bytes.count else { throw error("invalid \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw error("invalid \\u escape")
      }
      value = value << 4 | UInt32(digit)
      position += 1
    }
    return value
  }

  // MARK: - Writing

  private mutating func open(
    _ name: StaticString, key: [UInt8]?, selfClosing: Bool = false, into xml: inout [UInt8]
  ) {
    xml.append(UInt8(ascii: "<"))
    append(name, to: &xml)
    if !wroteRoot {
      wroteRoot = true
      xml.append(contentsOf: " xmlns=\"".utf8)
      xml.append(contentsOf: JSONToXML.namespace.utf8)
      xml.append(UInt8(ascii: "\""))
    }
    if let key {
      xml.append(contentsOf: " key=\"".utf8)
      escape(key, inAttribute: true, into: &xml)
      xml.append(UInt8(ascii: "\""))
    }
    if selfClosing { xml.append(UInt8(ascii: "/")) }
    xml.append(UInt8(ascii: ">"))
  }

  private func close(_ name: StaticString, into xml: inout [UInt8]) {
    xml.append(contentsOf: "</".utf8)
    append(name, to: &xml)
    xml.append(UInt8(ascii: ">"))
  }

  private mutating func element(
    _ name: StaticString, key: [UInt8]?, text: StaticString, into xml: inout [UInt8]
  ) {
    open(name, key: key, into: &xml)
    append(text, to: &xml)
    close(name, into: &xml)
  }

  private func append(_ text: StaticString, to xml: inout [UInt8]) {
    xml.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// Text for element content or a quoted attribute; characters XML 1.0 cannot carry become U+FFFD.
  private func escape(_ text: [UInt8], inAttribute: Bool = false, into xml: inout [UInt8]) {
    for byte in text {
      switch byte {
      case UInt8(ascii: "&"): xml.append(contentsOf: "&amp;".utf8)
      case UInt8(ascii: "<"): xml.append(contentsOf: "&lt;".utf8)
      case UInt8(ascii: ">"): xml.append(contentsOf: "&gt;".utf8)
      case UInt8(ascii: "\""): xml.append(contentsOf: "&quot;".utf8)
      // Kept as written: a raw CR would be read back as a line feed.
      case 0x0D: xml.append(contentsOf: "&#13;".utf8)
      // An attribute's tabs and line feeds would be read back as spaces.
      case 0x09 where inAttribute: xml.append(contentsOf: "&#9;".utf8)
      case 0x0A where inAttribute: xml.append(contentsOf: "&#10;".utf8)
      case 0x09, 0x0A: xml.append(byte)
      case 0..<0x20: xml.append(contentsOf: "\u{FFFD}".utf8)
      default: xml.append(byte)
      }
    }
  }
}
