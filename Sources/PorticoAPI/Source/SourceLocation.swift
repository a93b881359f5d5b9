/// A position in a manifest file: 1-based line and column.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }
}

/// A field path inside a document, such as `spec.routes[1].matchers[0].uri`.
public struct FieldPath: Hashable, Sendable, Codable, CustomStringConvertible,
  ExpressibleByArrayLiteral
{
  public enum Component: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case key(String)
    case index(Int)

    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }
  }

  public var components: [Component]

  public init(_ components: [Component] = []) { self.components = components }
  public init(arrayLiteral elements: Component...) { self.components = elements }

  public func appending(_ key: String) -> FieldPath { FieldPath(components + [.key(key)]) }
  public func appending(_ index: Int) -> FieldPath { FieldPath(components + [.index(index)]) }
  public func appending(_ other: FieldPath) -> FieldPath { FieldPath(components + other.components) }

  /// True when `self` is `other` or lies inside it.
  public func hasPrefix(_ other: FieldPath) -> Bool {
    components.count >= other.components.count
      && zip(components, other.components).allSatisfy { $0 == $1 }
  }

  public var description: String {
    var text = ""
    for component in components {
      switch component {
      case .key(let key): text += text.isEmpty ? key : ".\(key)"
      case .index(let index): text += "[\(index)]"
      }
    }
    return text
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }

  public init(from decoder: Decoder) throws {
    // Paths are written for people and tools to read; they are not read back.
    throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "FieldPath is write-only"))
  }
}

extension FieldPath {
  init(codingPath: [CodingKey]) {
    self.init(
      codingPath.map { key in key.intValue.map { .index($0) } ?? .key(key.stringValue) }
    )
  }
}
