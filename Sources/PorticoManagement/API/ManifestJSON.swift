import Foundation

/// A manifest as the API returns it: JSON, with the metadata the store keeps filled in.
enum ManifestJSON {
  /// The object of a stored manifest, as JSON-compatible values.
  static func object(_ stored: StoredObject) -> [String: Any] {
    let root = YAMLComposer(file: stored.document.source).read(stored.document.text).documents.first
    var object = root.map(value(of:)) as? [String: Any] ?? [:]
    var metadata = object["metadata"] as? [String: Any] ?? [:]
    metadata["name"] = stored.id.name
    if stored.id.kind != .secret || stored.id.namespace != "" { metadata["namespace"] = stored.id.namespace }
    if let cluster = stored.id.cluster { metadata["clusterName"] = cluster }
    metadata["generation"] = stored.stamp.generation
    metadata["resourceVersion"] = stored.stamp.resourceVersion
    metadata["uid"] = stored.stamp.uid
    if metadata["creationTimestamp"] == nil { metadata["creationTimestamp"] = stored.stamp.creationTimestamp }
    object["metadata"] = metadata
    return object
  }

  /// YAML's core schema: plain `null`, booleans and numbers become JSON's; everything quoted stays a string.
  static func value(of node: YAMLNode) -> Any {
    switch node.content {
    case .mapping(let pairs):
      var object: [String: Any] = [:]
      for pair in pairs { object[pair.key.scalar ?? ""] = value(of: pair.value) }
      return object
    case .sequence(let items):
      return items.map(value(of:))
    case .scalar(let text, let isPlain):
      guard isPlain else { return text }
      switch text {
      case "", "~", "null", "Null", "NULL": return NSNull()
      case "true", "True", "TRUE": return true
      case "false", "False", "FALSE": return false
      default: break
      }
      if let integer = Int64(text) { return integer }
      if text.contains(where: { $0.isNumber }),
        !text.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }),
        let number = Double(text)
      {
        return number
      }
      return text
    }
  }

  static func encode(_ value: Any) -> Data {
    (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
      ?? Data("{}".utf8)
  }
}
