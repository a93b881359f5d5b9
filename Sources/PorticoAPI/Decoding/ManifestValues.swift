/// A string enum in a manifest; an unknown value is an error that lists the accepted ones.
public protocol ManifestEnum: RawRepresentable, CaseIterable, Codable, Hashable, Sendable
where RawValue == String {}

extension ManifestEnum {
  public init(from decoder: Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = Self(rawValue: text) else {
      let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
      let message = "unknown value '\(text)'; expected one of \(accepted)"
      if let manifest = decoder as? NodeDecoder { throw manifest.failure(message) }
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: message))
    }
    self = value
  }
}

/// A length of time written as in Go and protobuf JSON: `15s`, `1.5s`, `100ms`, `1m30s`, `2h`.
/// A malformed value keeps its text and is reported by validation, so one bad field does not stop the load.
public struct ManifestDuration: Codable, Hashable, Sendable, CustomStringConvertible {
  public let text: String
  /// Nil when `text` is not a valid duration.
  public let nanoseconds: Int64?

  public init(_ text: String) {
    self.text = text
    self.nanoseconds = Self.parse(text)
  }

  public init(nanoseconds: Int64) {
    self.nanoseconds = nanoseconds
    self.text = Self.format(nanoseconds)
  }

  public init(from decoder: Decoder) throws {
    self.init(try decoder.singleValueContainer().decode(String.self))
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(text)
  }

  public var description: String { text }
  public var isValid: Bool { nanoseconds != nil }
  public var seconds: Double? { nanoseconds.map { Double($0) / 1e9 } }

  private static let units: [(suffix: String, nanoseconds: Double)] = [
    ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
  ]

  static func parse(_ text: String) -> Int64? {
    var rest = Substring(text)
    guard !rest.isEmpty else { return nil }
    if rest == "0" { return 0 }
    var total = 0.0
    while !rest.isEmpty {
      let number = rest.prefix { $0.isNumber || $0 == "." }
      guard !number.isEmpty, let value = Double(number) else { return nil }
      rest = rest.dropFirst(number.count)
      let unitText = rest.prefix { !$0.isNumber && $0 != "." }
      guard let unit = units.first(where: { $0.suffix == unitText }) else { return nil }
      rest = rest.dropFirst(unitText.count)
      total += value * unit.nanoseconds
    }
    guard total < 9e18 else { return nil }
    return Int64(total.rounded())
  }

  static func format(_ nanoseconds: Int64) -> String {
    if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
    if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
    return "\(nanoseconds)ns"
  }
}

/// Any YAML/JSON value, kept as written. Used for sub-structures whose typed model arrives with the feature
/// that interprets them.
public indirect enum OpaqueValue: Codable, Hashable, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case list([OpaqueValue])
  case object([String: OpaqueValue])

  public init(from decoder: Decoder) throws {
    if let manifest = decoder as? NodeDecoder {
      self = try Self.make(manifest.node, decoder: manifest)
      return
    }
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([OpaqueValue].self) {
      self = .list(value)
    } else {
      self = .object(try container.decode([String: OpaqueValue].self))
    }
  }

  private static func make(_ node: YAMLNode, decoder: NodeDecoder) throws -> OpaqueValue {
    try decoder.state.visit(node, path: decoder.path)
    switch node.content {
    case .scalar(let text, let isPlain):
      if node.isNull { return .null }
      if isPlain, text == "true" || text == "false" { return .bool(text == "true") }
      if isPlain, let number = Double(text) { return .number(number) }
      return .string(text)
    case .sequence(let items):
      return .list(try items.map { try make($0, decoder: decoder) })
    case .mapping(let pairs):
      var object: [String: OpaqueValue] = [:]
      for pair in pairs { object[pair.key.scalar ?? ""] = try make(pair.value, decoder: decoder) }
      return .object(object)
    }
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .list(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

/// A field of the upstream API that Portico recognises but does not act on yet: an error that names it, so
/// that nothing is served without what the field asks for (spec §11.9).
public struct NotImplemented: Codable, Hashable, Sendable {
  public let value: OpaqueValue

  public init(from decoder: Decoder) throws {
    value = try OpaqueValue(from: decoder)
    if let manifest = decoder as? ManifestDecoding {
      // Accepting it with a warning would serve traffic without what it asks for: an error fails closed.
      manifest.report(.error, "'\(manifest.fieldPath)' is not implemented by Portico yet")
    }
  }

  public func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

/// An empty object, for one-of choices that carry no settings (`drop: {}`).
public struct EmptyObject: Codable, Hashable, Sendable {
  private enum CodingKeys: CodingKey {}

  public init() {}

  public init(from decoder: Decoder) throws {
    _ = try decoder.container(keyedBy: CodingKeys.self)
  }

  public func encode(to encoder: Encoder) throws {
    _ = encoder.container(keyedBy: CodingKeys.self)
  }
}
