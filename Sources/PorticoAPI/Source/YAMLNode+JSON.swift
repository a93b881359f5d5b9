import Foundation

extension YAMLNode {
  /// The node as JSON-compatible values (`JSONSerialization`'s), by YAML's core schema: plain `null`, booleans
  /// and numbers become JSON's; everything quoted stays a string.
  public var jsonValue: Any {
    switch content {
    case .mapping(let pairs):
      var object: [String: Any] = [:]
      for pair in pairs { object[pair.key.scalar ?? ""] = pair.value.jsonValue }
      return object
    case .sequence(let items):
      return items.map(\.jsonValue)
    case .scalar(let text, let isPlain):
      guard isPlain else { return text }
      switch text {
      case "", "~", "null", "Null", "NULL": return NSNull()
      case "true", "True", "TRUE": return true
      case "false", "False", "FALSE": return false
      default: break
      }
      if let integer = Int64(text) { return integer }
      if text.contains(where: \.isNumber), !text.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }),
        let number = Double(text)
      {
        return number
      }
      return text
    }
  }
}
