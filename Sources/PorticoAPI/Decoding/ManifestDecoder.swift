/// Decodes `Decodable` resource types from `YAMLNode` trees, with diagnostics that carry positions.
///
/// Beyond what `Decoder` offers, it:
/// - reports every mapping key that the target type never asked for as an unknown field;
/// - lets types record warnings and errors without aborting (`ManifestDecoding`);
/// - limits the number of nodes visited, so aliases cannot blow up decoding time.
public struct ManifestDecoder {
  public static let maximumVisits = 2_000_000

  public init() {}

  /// Decodes `type` from `node`. Failures that abort decoding are thrown as a `Diagnostic`; everything else
  /// (unknown fields, soft errors, warnings) is returned beside the value.
  public func decode<T: Decodable>(
    _ type: T.Type, from node: YAMLNode, at path: FieldPath = []
  ) -> (value: T?, diagnostics: [Diagnostic]) {
    let state = DecodingState()
    let decoder = NodeDecoder(node: node, path: path, state: state)
    do {
      let value = try T(from: decoder)
      state.reportUnknownFields()
      return (value, state.diagnostics)
    } catch {
      state.reportUnknownFields()
      state.diagnostics.append(Self.diagnostic(for: error, root: node, base: path))
      return (nil, state.diagnostics)
    }
  }

  static func diagnostic(for error: Error, root: YAMLNode, base: FieldPath) -> Diagnostic {
    if let failure = error as? DecodingFailure { return failure.diagnostic }
    // A type's own DecodingError: place it with its coding path.
    let context: DecodingError.Context
    switch error {
    case DecodingError.dataCorrupted(let c), DecodingError.keyNotFound(_, let c),
      DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
      context = c
    default:
      return Diagnostic(.error, at: root.location, path: base, "\(error)")
    }
    let path = FieldPath(codingPath: context.codingPath)
    let relative = FieldPath(Array(path.components.dropFirst(base.components.count)))
    return Diagnostic(.error, at: root.location(of: relative), path: path, context.debugDescription)
  }
}

/// An error that stops decoding of one value, already placed.
struct DecodingFailure: Error {
  let diagnostic: Diagnostic
}

/// Lets a type's `init(from:)` report diagnostics at its own position without throwing.
public protocol ManifestDecoding {
  var location: SourceLocation { get }
  var fieldPath: FieldPath { get }
  func report(_ severity: Diagnostic.Severity, _ message: String)
}

/// A type whose values decode in isolation: when one element of a list fails, the decoder records the error
/// and keeps a placeholder, so that the rest of the document still loads (a broken route must not take its
/// siblings down with it).
public protocol RecoverableDecodable: Decodable {
  static func placeholder(for failure: Diagnostic) -> Self
}

final class DecodingState {
  var diagnostics: [Diagnostic] = []
  var visits = 0
  /// Mappings decoded as keyed containers, and the keys their types asked for.
  var keyedMappings: [ObjectIdentifier: (node: YAMLNode, path: FieldPath, asked: Set<String>)] = [:]

  func visit(_ node: YAMLNode, path: FieldPath) throws {
    visits += 1
    if visits > ManifestDecoder.maximumVisits {
      throw DecodingFailure(
        diagnostic: Diagnostic(
          .error, at: node.location, path: path,
          "document expands to more than \(ManifestDecoder.maximumVisits) values (aliases?)"))
    }
  }

  /// Mappings whose decoding failed part-way; their unread keys are not reported.
  var abandoned: Set<ObjectIdentifier> = []

  func abandon(_ node: YAMLNode) { abandoned.insert(ObjectIdentifier(node)) }

  func noteKeyed(_ node: YAMLNode, path: FieldPath) {
    let id = ObjectIdentifier(node)
    if keyedMappings[id] == nil { keyedMappings[id] = (node, path, []) }
  }

  func noteAsked(_ key: String, in node: YAMLNode, path: FieldPath) {
    noteKeyed(node, path: path)
    keyedMappings[ObjectIdentifier(node)]!.asked.insert(key)
  }

  func reportUnknownFields() {
    let ordered = keyedMappings.values.sorted {
      ($0.node.location.line, $0.node.location.column) < ($1.node.location.line, $1.node.location.column)
    }
    for entry in ordered where !abandoned.contains(ObjectIdentifier(entry.node)) {
      guard case .mapping(let pairs) = entry.node.content else { continue }
      for pair in pairs {
        guard let key = pair.key.scalar, !entry.asked.contains(key) else { continue }
        let known = entry.asked.sorted().joined(separator: ", ")
        diagnostics.append(
          Diagnostic(
            .error, at: pair.key.location, path: entry.path.appending(key),
            "unknown field '\(key)'" + (known.isEmpty ? "" : " (known fields: \(known))")))
      }
    }
    keyedMappings = [:]
    abandoned = []
  }
}

struct NodeDecoder: Decoder, ManifestDecoding {
  let node: YAMLNode
  let path: FieldPath
  let state: DecodingState

  var codingPath: [CodingKey] { path.components.map(PathKey.init) }
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  var location: SourceLocation { node.location }
  var fieldPath: FieldPath { path }

  func report(_ severity: Diagnostic.Severity, _ message: String) {
    state.diagnostics.append(Diagnostic(severity, at: node.location, path: path, message))
  }

  func failure(_ message: String) -> DecodingFailure {
    DecodingFailure(diagnostic: Diagnostic(.error, at: node.location, path: path, message))
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    try state.visit(node, path: path)
    guard case .mapping(let pairs) = node.content else {
      throw failure("expected a mapping, found \(node.kindName)")
    }
    state.noteKeyed(node, path: path)
    return KeyedDecodingContainer(KeyedNodeContainer<Key>(decoder: self, pairs: pairs))
  }

  func unkeyedContainer() throws -> UnkeyedDecodingContainer {
    try state.visit(node, path: path)
    guard case .sequence(let items) = node.content else {
      throw failure("expected a list, found \(node.kindName)")
    }
    return UnkeyedNodeContainer(decoder: self, items: items)
  }

  func singleValueContainer() throws -> SingleValueDecodingContainer {
    try state.visit(node, path: path)
    return SingleNodeContainer(decoder: self)
  }

  func child(_ node: YAMLNode, _ component: FieldPath.Component) -> NodeDecoder {
    NodeDecoder(node: node, path: FieldPath(path.components + [component]), state: state)
  }

  /// Decodes `type` here, isolating failures of recoverable types.
  func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
    guard let recoverable = type as? any RecoverableDecodable.Type else { return try T(from: self) }
    do {
      return try T(from: self)
    } catch {
      let diagnostic = ManifestDecoder.diagnostic(for: error, root: node, base: path)
      state.diagnostics.append(diagnostic)
      return recoverable.placeholder(for: diagnostic) as! T
    }
  }
}

struct PathKey: CodingKey {
  var stringValue: String
  var intValue: Int?
  init(_ component: FieldPath.Component) {
    switch component {
    case .key(let key): (stringValue, intValue) = (key, nil)
    case .index(let index): (stringValue, intValue) = ("\(index)", index)
    }
  }
  init?(stringValue: String) { (self.stringValue, self.intValue) = (stringValue, nil) }
  init?(intValue: Int) { (self.stringValue, self.intValue) = ("\(intValue)", intValue) }
}
