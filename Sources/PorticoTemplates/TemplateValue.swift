/// What templates compute with: JSON's kinds, objects keeping their members in the order written.
public enum TemplateValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([TemplateValue])
  case object(TemplateObject)

  /// False, null, zero, and empty strings, arrays and objects are false; everything else is true.
  var isTruthy: Bool {
    switch self {
    case .null: false
    case .bool(let value): value
    case .number(let value): value != 0
    case .string(let value): !value.isEmpty
    case .array(let values): !values.isEmpty
    case .object(let object): !object.entries.isEmpty
    }
  }

  /// As text in a rendered template: strings as they are, numbers without a needless `.0`, null as
  /// nothing, arrays and objects as JSON.
  public var rendered: String {
    switch self {
    case .null: ""
    case .string(let value): value
    default: json
    }
  }

  /// As JSON text.
  public var json: String {
    switch self {
    case .null: return "null"
    case .bool(let value): return value ? "true" : "false"
    case .number(let value): return Self.format(value)
    case .string(let value): return Self.quoted(value)
    case .array(let values): return "[" + values.map(\.json).joined(separator: ",") + "]"
    case .object(let object):
      return "{" + object.entries.map { Self.quoted($0.key) + ":" + $0.value.json }.joined(separator: ",")
        + "}"
    }
  }

  static func format(_ number: Double) -> String {
    if number.isFinite, number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
    return String(number)
  }

  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        out +=
          "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
          + String(scalar.value, radix: 16)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// The member or element `key` names (an array takes an index).
  func member(_ key: String) -> TemplateValue? {
    switch self {
    case .object(let object): return object[key]
    case .array(let values):
      guard let index = Int(key), values.indices.contains(index) else { return nil }
      return values[index]
    default: return nil
    }
  }
}

/// A JSON object's members in the order written.
public struct TemplateObject: Sendable, Equatable {
  public var entries: [(key: String, value: TemplateValue)]

  public init(_ entries: [(key: String, value: TemplateValue)] = []) { self.entries = entries }

  public subscript(key: String) -> TemplateValue? {
    entries.last { $0.key == key }?.value
  }

  public static func == (lhs: TemplateObject, rhs: TemplateObject) -> Bool {
    lhs.entries.count == rhs.entries.count
      && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
  }
}
