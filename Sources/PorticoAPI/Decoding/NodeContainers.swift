struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let decoder: NodeDecoder
  let pairs: [(key: YAMLNode, value: YAMLNode)]

  var codingPath: [CodingKey] { decoder.codingPath }

  var allKeys: [Key] {
    pairs.compactMap { pair in
      guard let name = pair.key.scalar else { return nil }
      decoder.state.noteAsked(name, in: decoder.node, path: decoder.path)
      return Key(stringValue: name)
    }
  }

  private func value(for key: Key) -> YAMLNode? {
    decoder.state.noteAsked(key.stringValue, in: decoder.node, path: decoder.path)
    return pairs.first { $0.key.scalar == key.stringValue }?.value
  }

  private func required(_ key: Key) throws -> NodeDecoder {
    guard let node = value(for: key) else {
      throw DecodingFailure(
        diagnostic: Diagnostic(
          .error, at: decoder.node.location, path: decoder.path.appending(key.stringValue),
          "missing required field '\(key.stringValue)'"))
    }
    return decoder.child(node, .key(key.stringValue))
  }

  func contains(_ key: Key) -> Bool { value(for: key) != nil }

  func decodeNil(forKey key: Key) throws -> Bool { value(for: key)?.isNull ?? true }

  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    try abandoningOnFailure {
      let child = try required(key)
      if child.node.isNull, !(T.self is any ExpressibleByNilLiteral.Type) {
        throw child.failure("'\(key.stringValue)' must not be null")
      }
      return try child.decodeValue(type)
    }
  }

  func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
    guard let node = value(for: key), !node.isNull else { return nil }
    return try abandoningOnFailure { try decoder.child(node, .key(key.stringValue)).decodeValue(type) }
  }

  /// A failure leaves this mapping half-read: its remaining keys were never asked for, but they are not
  /// unknown, so they must not be reported as such.
  private func abandoningOnFailure<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      decoder.state.abandon(decoder.node)
      throw error
    }
  }

  func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type, forKey key: Key
  ) throws -> KeyedDecodingContainer<NestedKey> {
    try required(key).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
    try required(key).unkeyedContainer()
  }

  func superDecoder() throws -> Decoder { decoder }

  func superDecoder(forKey key: Key) throws -> Decoder { try required(key) }
}

struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
  let decoder: NodeDecoder
  let items: [YAMLNode]
  var currentIndex = 0

  init(decoder: NodeDecoder, items: [YAMLNode]) {
    self.decoder = decoder
    self.items = items
  }

  var codingPath: [CodingKey] { decoder.codingPath }
  var count: Int? { items.count }
  var isAtEnd: Bool { currentIndex >= items.count }

  private mutating func next() throws -> NodeDecoder {
    guard !isAtEnd else { throw decoder.failure("list has fewer items than expected") }
    defer { currentIndex += 1 }
    return decoder.child(items[currentIndex], .index(currentIndex))
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, items[currentIndex].isNull else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
    let child = try next()
    if child.node.isNull, !(T.self is any ExpressibleByNilLiteral.Type) {
      throw child.failure("list items must not be null")
    }
    return try child.decodeValue(type)
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type
  ) throws -> KeyedDecodingContainer<NestedKey> {
    try next().container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
    try next().unkeyedContainer()
  }

  mutating func superDecoder() throws -> Decoder { try next() }
}

struct SingleNodeContainer: SingleValueDecodingContainer {
  let decoder: NodeDecoder

  var codingPath: [CodingKey] { decoder.codingPath }

  func decodeNil() -> Bool { decoder.node.isNull }

  private func scalar(_ expected: String) throws -> (text: String, isPlain: Bool) {
    guard case .scalar(let text, let isPlain) = decoder.node.content, !decoder.node.isNull else {
      throw decoder.failure("expected \(expected), found \(decoder.node.kindName)")
    }
    return (text, isPlain)
  }

  func decode(_ type: String.Type) throws -> String { try scalar("a string").text }

  func decode(_ type: Bool.Type) throws -> Bool {
    let (text, isPlain) = try scalar("true or false")
    switch (text, isPlain) {
    case ("true", true), ("True", true), ("TRUE", true): return true
    case ("false", true), ("False", true), ("FALSE", true): return false
    default: throw decoder.failure("expected true or false, found '\(text)'")
    }
  }

  private func number<T: LosslessStringConvertible>(_ type: T.Type, _ name: String) throws -> T {
    let (text, isPlain) = try scalar(name)
    let digits = text.hasPrefix("+") ? String(text.dropFirst()) : text
    guard isPlain, let value = T(digits) else {
      throw decoder.failure("expected \(name), found '\(text)'")
    }
    return value
  }

  func decode(_ type: Double.Type) throws -> Double { try number(Double.self, "a number") }
  func decode(_ type: Float.Type) throws -> Float { try number(Float.self, "a number") }
  func decode(_ type: Int.Type) throws -> Int { try number(Int.self, "an integer") }
  func decode(_ type: Int8.Type) throws -> Int8 { try number(Int8.self, "a small integer") }
  func decode(_ type: Int16.Type) throws -> Int16 { try number(Int16.self, "a 16-bit integer") }
  func decode(_ type: Int32.Type) throws -> Int32 { try number(Int32.self, "a 32-bit integer") }
  func decode(_ type: Int64.Type) throws -> Int64 { try number(Int64.self, "a 64-bit integer") }
  func decode(_ type: UInt.Type) throws -> UInt { try number(UInt.self, "a non-negative integer") }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try number(UInt8.self, "an integer 0-255") }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try number(UInt16.self, "an integer 0-65535") }
  func decode(_ type: UInt32.Type) throws -> UInt32 {
    try number(UInt32.self, "a non-negative 32-bit integer")
  }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try number(UInt64.self, "a non-negative integer") }

  func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
