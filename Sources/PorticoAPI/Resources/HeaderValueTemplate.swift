/// A header value that may use request variables, written `%NAME%` (Envoy's names): what a header
/// manipulation appends is filled in per request. `%%` is a literal `%`.
///
/// | Variable | Value |
/// |---|---|
/// | `%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%` | the client's IP address |
/// | `%REQ(name)%` | the request's first `name` field, empty when absent (`%REQ(x-request-id)%` is the request ID, also when the gateway made it) |
/// | `%ROUTE_NAME%` | the matched route's name |
/// | `%PROTOCOL%` | `HTTP/1.0`, `HTTP/1.1` or `HTTP/2` |
public struct HeaderValueTemplate: Sendable, Hashable {
  public enum Part: Sendable, Hashable {
    case text(String)
    case clientAddress
    case requestField(String)
    case routeName
    case `protocol`
  }

  public let parts: [Part]

  /// The text itself when it uses no variable.
  public var literal: String? {
    if parts.isEmpty { return "" }
    if parts.count == 1, case .text(let text) = parts[0] { return text }
    return nil
  }

  public struct ParseError: Error, CustomStringConvertible {
    public let description: String
  }

  public static let variableNames = [
    "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "REQ(name)", "ROUTE_NAME", "PROTOCOL",
  ]

  /// `text` as it is, variables or not.
  public init(literal text: String) {
    parts = text.isEmpty ? [] : [.text(text)]
  }

  public init(_ value: String) throws(ParseError) {
    var parts: [Part] = []
    var text = ""
    var rest = value[...]
    while let percent = rest.firstIndex(of: "%") {
      text += rest[..<percent]
      let afterPercent = rest.index(after: percent)
      if rest[afterPercent...].hasPrefix("%") {
        text += "%"
        rest = rest[rest.index(after: afterPercent)...]
        continue
      }
      guard let close = rest[afterPercent...].firstIndex(of: "%") else {
        throw ParseError(description: "an unclosed '%' in '\(value)' (write %% for a literal %)")
      }
      let name = rest[afterPercent..<close]
      let part: Part
      switch name {
      case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": part = .clientAddress
      case "ROUTE_NAME": part = .routeName
      case "PROTOCOL": part = .protocol
      default:
        guard name.hasPrefix("REQ("), name.hasSuffix(")"), name.count > 5 else {
          throw ParseError(
            description: "unknown variable %\(name)% in '\(value)'; known: "
              + Self.variableNames.map { "%\($0)%" }.joined(separator: ", ") + " (%% for a literal %)")
        }
        part = .requestField(name.dropFirst(4).dropLast().lowercased())
      }
      if !text.isEmpty { parts.append(.text(text)) }
      text = ""
      parts.append(part)
      rest = rest[rest.index(after: close)...]
    }
    text += rest
    if !text.isEmpty { parts.append(.text(text)) }
    self.parts = parts
  }
}
