/// A parsed YAML (or JSON) node that remembers where it was written.
///
/// Nodes are reference types so that aliases share one node instead of copying a subtree.
public final class YAMLNode: Sendable {
  public enum Content: Sendable {
    case scalar(String, isPlain: Bool)
    case sequence([YAMLNode])
    case mapping([(key: YAMLNode, value: YAMLNode)])
  }

  public let content: Content
  public let location: SourceLocation

  public init(_ content: Content, at location: SourceLocation) {
    self.content = content
    self.location = location
  }

  /// The scalar text, or nil for collections.
  public var scalar: String? {
    if case .scalar(let text, _) = content { return text }
    return nil
  }

  /// True for a plain `null`, `~` or empty scalar: YAML's null.
  public var isNull: Bool {
    guard case .scalar(let text, let isPlain) = content, isPlain else { return false }
    return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
  }

  /// The value under `key` of a mapping node.
  public subscript(key: String) -> YAMLNode? {
    guard case .mapping(let pairs) = content else { return nil }
    return pairs.first { $0.key.scalar == key }?.value
  }

  public var kindName: String {
    switch content {
    case .scalar: return isNull ? "null" : "a scalar"
    case .sequence: return "a list"
    case .mapping: return "a mapping"
    }
  }

  /// The deepest node on `path`, so that an error about a missing field points at its parent.
  public func deepestNode(along path: FieldPath) -> YAMLNode {
    var node = self
    for component in path.components {
      switch (component, node.content) {
      case (.key(let key), .mapping):
        guard let next = node[key] else { return node }
        node = next
      case (.index(let index), .sequence(let items)) where items.indices.contains(index):
        node = items[index]
      default:
        return node
      }
    }
    return node
  }

  /// The location of the key `path`'s last component names, or of the node itself, for errors about a field.
  public func location(of path: FieldPath) -> SourceLocation {
    guard case .key(let last)? = path.components.last else { return deepestNode(along: path).location }
    let parent = deepestNode(along: FieldPath(Array(path.components.dropLast())))
    if case .mapping(let pairs) = parent.content,
      let pair = pairs.first(where: { $0.key.scalar == last })
    {
      return pair.key.location
    }
    return deepestNode(along: path).location
  }
}
