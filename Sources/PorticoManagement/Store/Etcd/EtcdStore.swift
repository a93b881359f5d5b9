import Foundation

/// Resources in etcd, for several plane replicas: each under `/portico/resources/KEY` as the JSON of a
/// `StoredObject`; a resource's resourceVersion is its key's modification revision, so that optimistic
/// concurrency is etcd's own compare-and-swap. Every replica follows the others' writes with a watch.
public final class EtcdStore: ResourceStore {
  static let prefix = "/portico/resources/"
  let client: EtcdClient

  /// `etcd://HOST:PORT[,HOST:PORT...]`.
  public init(url: String) throws {
    client = try EtcdClient(url: url)
  }

  public var readOnlyReason: String? { nil }

  public func load() async throws -> (objects: [StoredObject], revision: Int64) {
    let (items, revision) = try await client.range(prefix: Self.prefix)
    let objects = items.compactMap { item -> StoredObject? in
      guard var object = try? JSONDecoder().decode(StoredObject.self, from: item.value) else { return nil }
      object.stamp.resourceVersion = String(item.modRevision)
      return object
    }
    return (objects, revision)
  }

  public func put(_ id: ResourceID, document: ManifestDocument, expectedVersion: String?) async throws
    -> StoredObject
  {
    let key = Self.prefix + relayKey(id)
    while true {
      let current = try await client.get(key)
      var previous = current.flatMap { try? JSONDecoder().decode(StoredObject.self, from: $0.value) }
      if let current { previous?.stamp.resourceVersion = String(current.modRevision) }
      try Self.check(id, expected: expectedVersion, against: previous)
      if let previous, previous.document == document { return previous }
      var stamp = nextStamp(previous: previous, document: document, revision: 0)
      let value = try JSONEncoder().encode(StoredObject(id: id, document: document, stamp: stamp))
      if let revision = try await client.put(key, value, ifModifiedAt: current?.modRevision ?? 0) {
        stamp.resourceVersion = String(revision)
        return StoredObject(id: id, document: document, stamp: stamp)
      }
      // Another replica wrote it in between: a write that named a version conflicts, others try again.
      if expectedVersion != nil {
        let now = try await client.get(key)
        throw StoreError.conflict(id, current: String(now?.modRevision ?? 0))
      }
    }
  }

  public func delete(_ id: ResourceID, expectedVersion: String?) async throws -> StoredObject {
    let key = Self.prefix + relayKey(id)
    guard let current = try await client.get(key),
      var previous = try? JSONDecoder().decode(StoredObject.self, from: current.value)
    else { throw StoreError.notFound(id) }
    previous.stamp.resourceVersion = String(current.modRevision)
    try Self.check(id, expected: expectedVersion, against: previous)
    guard try await client.delete(key, ifModifiedAt: current.modRevision) else {
      throw StoreError.conflict(id, current: String((try await client.get(key))?.modRevision ?? 0))
    }
    return previous
  }

  /// Changes under the prefix, by any replica; the watch is made again when it breaks, and a reload every
  /// few seconds covers whatever a broken watch missed.
  public func externalChanges() -> AsyncStream<Void> {
    let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    let task = Task { [client] in
      while !Task.isCancelled {
        do {
          let revision = try await client.range(prefix: Self.prefix + "\u{7f}").revision
          let changes = try await client.watch(prefix: Self.prefix, after: revision)
          continuation.yield()
          for try await _ in changes { continuation.yield() }
        } catch {}
        try? await Task.sleep(for: .seconds(1))
      }
    }
    let resync = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(5))
        continuation.yield()
      }
    }
    continuation.onTermination = { _ in
      task.cancel()
      resync.cancel()
    }
    return stream
  }
}
