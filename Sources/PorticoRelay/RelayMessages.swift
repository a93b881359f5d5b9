import Crypto
import Foundation
@_exported import PorticoTranslate

/// A resource's key on the relay and in a gateway's cache: `KIND/CLUSTER/NAMESPACE/NAME` (CLUSTER empty for
/// kinds that belong to no cluster).
public func relayKey(_ id: ResourceID) -> String {
  "\(id.kind.rawValue)/\(id.cluster ?? "")/\(id.namespace)/\(id.name)"
}

/// A manifest as the plane ships it: the document and the metadata its store keeps.
public struct ShippedManifest: Sendable, Hashable, Codable {
  public var key: String
  public var document: ManifestDocument
  public var stamp: ObjectStamp

  public init(key: String, document: ManifestDocument, stamp: ObjectStamp) {
    self.key = key
    self.document = document
    self.stamp = stamp
    let hash = SHA256.hash(data: Data("\(document.source)|\(document.firstLine)|\(document.text)".utf8))
    digest =
      "\(stamp.resourceVersion)|\(stamp.generation)|"
      + hash.prefix(12).map { String(format: "%02x", $0) }.joined()
  }

  /// Changes when anything the gateway would translate changes; computed once.
  public let digest: String

  private enum CodingKeys: String, CodingKey { case key, document, stamp }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      key: try container.decode(String.self, forKey: .key),
      document: try container.decode(ManifestDocument.self, forKey: .document),
      stamp: try container.decode(ObjectStamp.self, forKey: .stamp))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(key, forKey: .key)
    try container.encode(document, forKey: .document)
    try container.encode(stamp, forKey: .stamp)
  }
}

extension ShippedManifest {
  public init(_ message: Portico_Relay_V1_Manifest) {
    self.init(
      key: message.key,
      document: ManifestDocument(
        source: message.source, firstLine: Int(message.firstLine), text: message.text),
      stamp: ObjectStamp(
        generation: message.generation, resourceVersion: message.resourceVersion,
        creationTimestamp: message.creationTimestamp, uid: message.uid))
  }

  var message: Portico_Relay_V1_Manifest {
    .with {
      $0.key = key
      $0.text = document.text
      $0.source = document.source
      $0.firstLine = Int32(clamping: document.firstLine)
      $0.generation = stamp.generation
      $0.resourceVersion = stamp.resourceVersion
      $0.creationTimestamp = stamp.creationTimestamp
      $0.uid = stamp.uid
    }
  }
}

/// Everything a gateway translates, as of one plane generation.
public struct ShippedSnapshot: Sendable, Codable, Equatable {
  public var generation: Int64
  public var manifests: [String: ShippedManifest]

  public init(generation: Int64 = 0, manifests: [String: ShippedManifest] = [:]) {
    self.generation = generation
    self.manifests = manifests
  }

  /// The snapshot as resources, loaded as a folder would be, with the store's metadata set.
  public func load(cache: DocumentCache? = nil) -> ResourceSnapshot {
    let ordered = manifests.values.sorted { $0.key < $1.key }
    var stamps: [ResourceID: ObjectStamp] = [:]
    var snapshot = ManifestLoader().load(documents: ordered.map(\.document), cache: cache)
    cache?.trim()
    let byKey = Dictionary(uniqueKeysWithValues: ordered.map { ($0.key, $0.stamp) })
    for id in snapshot.resourceIDs { stamps[id] = byKey[relayKey(id)] }
    snapshot.stamp(stamps)
    return snapshot
  }

  /// This snapshot with a change applied.
  public func applying(_ message: Portico_Relay_V1_Snapshot) -> ShippedSnapshot {
    var next = message.full ? ShippedSnapshot() : self
    next.generation = message.generation
    for key in message.removals { next.manifests[key] = nil }
    for manifest in message.upserts { next.manifests[manifest.key] = ShippedManifest(manifest) }
    return next
  }

  /// The message that turns `base` (what the gateway has) into this snapshot.
  public func change(from base: [String: String]?) -> Portico_Relay_V1_Snapshot {
    .with { message in
      message.generation = generation
      guard let base else {
        message.full = true
        message.upserts = manifests.values.sorted { $0.key < $1.key }.map(\.message)
        return
      }
      message.full = false
      message.upserts = manifests.values.filter { base[$0.key] != $0.digest }.sorted { $0.key < $1.key }.map(
        \.message)
      message.removals = base.keys.filter { manifests[$0] == nil }.sorted()
    }
  }

  /// What the gateway holds, by key, as digests.
  public var digests: [String: String] { manifests.mapValues(\.digest) }
}

extension GatewayIdentity {
  public init(_ message: Portico_Relay_V1_GatewayIdentity) {
    self.init(
      name: message.name,
      namespace: message.namespace.isEmpty ? ObjectMeta.defaultNamespace : message.namespace,
      cluster: message.cluster.isEmpty ? GatewayIdentity.defaultCluster : message.cluster,
      labels: message.labels, ports: message.ports.mapValues(Int.init),
      locality: StaticDestinationSpec.Locality(parsing: message.locality))
  }

  public var message: Portico_Relay_V1_GatewayIdentity {
    .with {
      $0.name = name
      $0.namespace = namespace
      $0.cluster = cluster
      $0.labels = labels
      $0.ports = ports.mapValues { Int32(clamping: $0) }
      $0.locality = locality?.text ?? ""
    }
  }
}
