import Foundation

/// Writes JSON values (as `JSONSerialization` reads them) as block YAML, keys in order, strings quoted when
/// YAML would read them as something else.
enum YAMLWriter {
  static func document(_ value: Any) -> String {
    var out = ""
    write(value, indent: 0, into: &out, inline: false)
    return out
  }

  private static func write(_ value: Any, indent: Int, into out: inout String, inline: Bool) {
    let pad = String(repeating: " ", count: indent)
    switch value {
    case let object as [String: Any]:
      if object.isEmpty {
        out += (inline ? " " : "") + "{}\n"
        return
      }
      if inline { out += "\n" }
      for key in orderedKeys(object) {
        out += pad + scalar(key) + ":"
        write(object[key]!, indent: indent + 2, into: &out, inline: true)
      }
    case let array as [Any]:
      if array.isEmpty {
        out += (inline ? " " : "") + "[]\n"
        return
      }
      if inline { out += "\n" }
      for item in array {
        out += pad + "-"
        if let object = item as? [String: Any], !object.isEmpty {
          // The first key sits on the dash's line.
          var nested = ""
          write(object, indent: indent + 2, into: &nested, inline: false)
          out += " " + nested.dropFirst(indent + 2)
        } else {
          write(item, indent: indent + 2, into: &out, inline: true)
        }
      }
    default:
      out += (inline ? " " : "") + scalar(value) + "\n"
    }
  }

  /// apiVersion, kind, metadata, spec first, as manifests are usually written; the rest sorted.
  private static func orderedKeys(_ object: [String: Any]) -> [String] {
    let first = ["apiVersion", "kind", "metadata", "spec", "type", "data", "stringData", "subsets"]
    return first.filter { object[$0] != nil } + object.keys.filter { !first.contains($0) }.sorted()
  }

  private static func scalar(_ value: Any) -> String {
    switch value {
    case is NSNull: return "null"
    case let flag as Bool where !(value is Int) || String(cString: (value as! NSNumber).objCType) == "c":
      return flag ? "true" : "false"
    case let number as NSNumber:
      return number.stringValue
    case let text as String:
      let plain =
        !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
        && Double(text) == nil
        && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(text.lowercased())
        && !text.hasPrefix("-")
      return plain ? text : quoted(text)
    default: return quoted("\(value)")
    }
  }

  private static func quoted(_ text: String) -> String {
    let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
    return String(array.dropFirst().dropLast())
  }
}
