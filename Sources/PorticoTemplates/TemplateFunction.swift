import Foundation

/// The functions a template may call: inja's own and those of Envoy's transformation filter that read the
/// message (`header`, `body`, `extraction`...).
enum TemplateFunction: String, Sendable {
  // inja
  case upper, lower, capitalize, length, `default`, exists, existsIn, first, last, max, min, sort, round, int,
    float, even, odd, divisibleBy, isArray, isBoolean, isFloat, isInteger, isNumber, isObject, isString,
    range, join, at, replace
  // Envoy's transformation filter
  case header, extraction, body, context, env, substring, trim
  case requestHeader = "request_header", base64Encode = "base64_encode", base64Decode = "base64_decode"
  case base64URLEncode = "base64url_encode", base64URLDecode = "base64url_decode"
  case replaceAll = "replace_all", rawString = "raw_string", wordCount = "word_count"

  var arity: ClosedRange<Int> {
    switch self {
    case .body, .context: 0...0
    case .upper, .lower, .capitalize, .length, .exists, .first, .last, .max, .min, .sort, .int, .float, .even,
      .odd, .isArray, .isBoolean, .isFloat, .isInteger, .isNumber, .isObject, .isString, .range, .header,
      .requestHeader, .extraction, .env, .base64Encode, .base64Decode, .base64URLEncode,
      .base64URLDecode,
      .trim, .rawString, .wordCount:
      1...1
    case .default, .existsIn, .divisibleBy, .join, .at: 2...2
    case .round: 1...2
    case .substring: 2...3
    case .replace, .replaceAll: 3...3
    }
  }
}

/// What a template reads of the message it renders for.
public protocol TemplateMessage {
  /// The first value of the message's header `name` (any case): the request's, or the response's.
  func header(_ name: String) -> String?
  /// The request's header, also when rendering a response.
  func requestHeader(_ name: String) -> String?
  /// What the extractor named `name` found.
  func extraction(_ name: String) -> String?
  /// The message's body as text.
  var body: String { get }
  /// The parsed JSON body (null when it is not parsed): what variables read.
  var context: TemplateValue { get }
}

extension TemplateFunction {
  func call(_ arguments: [TemplateValue], _ message: any TemplateMessage) -> TemplateValue {
    func text(_ index: Int) -> String { arguments[index].rendered }
    func number(_ index: Int) -> Double? {
      switch arguments[index] {
      case .number(let value): value
      case .string(let value): Double(value.trimmingCharacters(in: .whitespaces))
      case .bool(let value): value ? 1 : 0
      default: nil
      }
    }
    func list(_ index: Int) -> [TemplateValue] {
      if case .array(let values) = arguments[index] { return values }
      return []
    }
    switch self {
    case .upper: return .string(text(0).uppercased())
    case .lower: return .string(text(0).lowercased())
    case .capitalize: return .string(text(0).prefix(1).uppercased() + text(0).dropFirst().lowercased())
    case .length:
      switch arguments[0] {
      case .string(let value): return .number(Double(value.count))
      case .array(let values): return .number(Double(values.count))
      case .object(let object): return .number(Double(object.entries.count))
      default: return .number(0)
      }
    case .default: return arguments[0] == .null ? arguments[1] : arguments[0]
    case .exists: return .bool(Self.lookup(text(0), in: message.context) != nil)
    case .existsIn: return .bool(Self.lookup(text(1), in: arguments[0]) != nil)
    case .first: return list(0).first ?? .null
    case .last: return list(0).last ?? .null
    case .max: return list(0).max(by: { Self.less($0, $1) }) ?? .null
    case .min: return list(0).min(by: { Self.less($0, $1) }) ?? .null
    case .sort: return .array(list(0).sorted(by: { Self.less($0, $1) }))
    case .round:
      guard let value = number(0) else { return .null }
      let digits = arguments.count > 1 ? Int(number(1) ?? 0) : 0
      let scale = pow(10, Double(digits))
      return .number((value * scale).rounded() / scale)
    case .int: return number(0).map { .number($0.rounded(.towardZero)) } ?? .null
    case .float: return number(0).map { .number($0) } ?? .null
    case .even: return .bool(number(0).map { Int($0) % 2 == 0 } ?? false)
    case .odd: return .bool(number(0).map { Int($0) % 2 != 0 } ?? false)
    case .divisibleBy:
      guard let value = number(0), let divisor = number(1), divisor != 0 else { return .bool(false) }
      return .bool(Int(value) % Int(divisor) == 0)
    case .isArray: if case .array = arguments[0] { return .bool(true) } else { return .bool(false) }
    case .isBoolean: if case .bool = arguments[0] { return .bool(true) } else { return .bool(false) }
    case .isNumber: if case .number = arguments[0] { return .bool(true) } else { return .bool(false) }
    case .isInteger:
      if case .number(let value) = arguments[0] { return .bool(value == value.rounded()) }
      return .bool(false)
    case .isFloat:
      if case .number(let value) = arguments[0] { return .bool(value != value.rounded()) }
      return .bool(false)
    case .isObject: if case .object = arguments[0] { return .bool(true) } else { return .bool(false) }
    case .isString: if case .string = arguments[0] { return .bool(true) } else { return .bool(false) }
    case .range: return .array((0..<Swift.max(0, Int(number(0) ?? 0))).map { .number(Double($0)) })
    case .join: return .string(list(0).map(\.rendered).joined(separator: text(1)))
    case .at: return arguments[0].member(text(1)) ?? .null
    case .replace, .replaceAll:
      let from = text(1)
      guard !from.isEmpty else { return .string(text(0)) }
      return .string(text(0).replacingOccurrences(of: from, with: text(2)))
    case .header: return message.header(text(0)).map(TemplateValue.string) ?? .string("")
    case .requestHeader: return message.requestHeader(text(0)).map(TemplateValue.string) ?? .string("")
    case .extraction: return message.extraction(text(0)).map(TemplateValue.string) ?? .string("")
    case .body: return .string(message.body)
    case .context: return message.context
    case .env: return .string(ProcessInfo.processInfo.environment[text(0)] ?? "")
    case .base64Encode: return .string(Data(text(0).utf8).base64EncodedString())
    case .base64URLEncode:
      return .string(
        Data(text(0).utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
          .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: ""))
    case .base64Decode, .base64URLDecode:
      var encoded = text(0).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
      encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)
      guard let data = Data(base64Encoded: encoded) else { return .string("") }
      return .string(String(decoding: data, as: UTF8.self))
    case .substring:
      let characters = Array(text(0))
      let start = Swift.max(0, Int(number(1) ?? 0))
      guard start < characters.count else { return .string("") }
      let length = arguments.count > 2 ? Swift.max(0, Int(number(2) ?? 0)) : characters.count - start
      return .string(String(characters[start..<Swift.min(characters.count, start + length)]))
    case .trim: return .string(text(0).trimmingCharacters(in: .whitespacesAndNewlines))
    case .rawString:
      // The text as a JSON string's contents: quotes and control characters escaped, without the quotes.
      return .string(String(TemplateValue.quoted(text(0)).dropFirst().dropLast()))
    case .wordCount: return .number(Double(text(0).split(whereSeparator: \.isWhitespace).count))
    }
  }

  /// A dotted or slash-separated path (`order.id`, `order/id`) in `value`.
  static func lookup(_ path: String, in value: TemplateValue) -> TemplateValue? {
    var current = value
    for key in path.split(whereSeparator: { $0 == "." || $0 == "/" }) {
      guard let next = current.member(String(key)) else { return nil }
      current = next
    }
    return current
  }

  /// Numbers by value, strings by text; other kinds by their JSON.
  static func less(_ lhs: TemplateValue, _ rhs: TemplateValue) -> Bool {
    switch (lhs, rhs) {
    case (.number(let a), .number(let b)): a < b
    case (.string(let a), .string(let b)): a < b
    default: lhs.json < rhs.json
    }
  }
}
