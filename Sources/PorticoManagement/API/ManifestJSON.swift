import Foundation

/// A manifest as the API returns it: JSON, with the metadata the store keeps filled in.
enum ManifestJSON {
  /// The object of a stored manifest, as JSON-compatible values.
  static func object(_ stored: StoredObject) -> [String: Any] {
    let root = YAMLComposer(file: stored.document.source).read(stored.document.text).documents.first
    var object = root?.jsonValue as? [String: Any] ?? [:]
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

  static func encode(_ value: Any) -> Data {
    (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
      ?? Data("{}".utf8)
  }
}
