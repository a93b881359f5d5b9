import Foundation
@_exported import PorticoRelay

/// A resource as the plane keeps it: the manifest as written, where it was written, and the metadata the
/// store maintains.
public struct StoredObject: Sendable, Hashable, Codable {
  public var id: ResourceID
  public var document: ManifestDocument
  public var stamp: ObjectStamp

  public init(id: ResourceID, document: ManifestDocument, stamp: ObjectStamp) {
    self.id = id
    self.document = document
    self.stamp = stamp
  }
}

/// Why a store refused a write.
public enum StoreError: Error, Equatable, CustomStringConvertible {
  /// The write named a resourceVersion that is no longer current.
  case conflict(ResourceID, current: String)
  case notFound(ResourceID)
  /// The store does not take writes (a folder served read-only); the reason says where changes go instead.
  case readOnly(String)

  public var description: String {
    switch self {
    case .conflict(let id, let current):
      return "\(id) has been modified (resourceVersion is now \(current)); read it again and retry"
    case .notFound(let id): return "\(id) not found"
    case .readOnly(let reason): return reason
    }
  }
}

/// Where the plane's resources live. Three implementations: a folder (read-only, for GitOps), SQLite (the
/// embedded default) and etcd (for several plane replicas).
public protocol ResourceStore: Sendable {
  /// Why writes are refused, or nil when the store takes them.
  var readOnlyReason: String? { get }

  /// Every resource, and the store's revision (it grows with every change).
  func load() async throws -> (objects: [StoredObject], revision: Int64)

  /// Creates or replaces a resource. With `expectedVersion`, only if the stored resourceVersion is that
  /// (nil: whatever is stored; "" or "0": only if absent). The generation grows when the manifest changes.
  func put(_ id: ResourceID, document: ManifestDocument, expectedVersion: String?) async throws
    -> StoredObject

  /// Deletes a resource, with the same `expectedVersion` check; returns what was deleted.
  func delete(_ id: ResourceID, expectedVersion: String?) async throws -> StoredObject

  /// Yields whenever the store changed by a hand other than this process's writes (a folder edited, another
  /// replica's write), so that the plane loads it again.
  func externalChanges() -> AsyncStream<Void>
}

extension ResourceStore {
  /// Refuses a write whose expected resourceVersion is not the stored one.
  static func check(_ id: ResourceID, expected: String?, against stored: StoredObject?) throws {
    guard let expected else { return }
    let current = stored?.stamp.resourceVersion ?? "0"
    if expected == "" || expected == "0" {
      if let stored { throw StoreError.conflict(id, current: stored.stamp.resourceVersion) }
      return
    }
    guard current == expected else {
      if stored == nil { throw StoreError.notFound(id) }
      throw StoreError.conflict(id, current: current)
    }
  }
}

/// The stamp of a new or changed resource: the generation grows when the text changes; creation time and uid
/// are kept from the previous stamp.
func nextStamp(previous: StoredObject?, document: ManifestDocument, revision: Int64) -> ObjectStamp {
  let unchanged = previous?.document.text == document.text
  return ObjectStamp(
    generation: unchanged ? previous!.stamp.generation : (previous?.stamp.generation ?? 0) + 1,
    resourceVersion: String(revision),
    creationTimestamp: previous?.stamp.creationTimestamp ?? timestamp(),
    uid: previous?.stamp.uid ?? UUID().uuidString.lowercased())
}

/// RFC 3339, as Kubernetes writes `creationTimestamp`.
func timestamp(_ date: Date = Date()) -> String {
  let formatter = ISO8601DateFormatter()
  formatter.formatOptions = [.withInternetDateTime]
  return formatter.string(from: date)
}
