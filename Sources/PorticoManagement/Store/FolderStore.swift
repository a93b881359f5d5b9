import Foundation
import Synchronization

/// A folder of manifests served read-only: the folder is the source of truth (GitOps), edits to it are picked
/// up, and writes through the API are refused.
public final class FolderStore: ResourceStore {
  public let directory: String
  private let interval: Duration
  /// Documents read before: a change to one file does not parse the others again.
  private let documents = DocumentCache()
  /// What was last read, so that a document keeps its stamp until its text changes.
  private let known = Mutex<(objects: [ResourceID: StoredObject], revision: Int64)>(([:], 0))

  public init(directory: String, interval: Duration = .milliseconds(500)) {
    self.directory = directory
    self.interval = interval
  }

  public var readOnlyReason: String? {
    "the plane serves the folder \(directory) read-only; change the files there instead"
  }

  public func load() async throws -> (objects: [StoredObject], revision: Int64) {
    let root = URL(fileURLWithPath: directory)
    let files = try ManifestLoader.manifestFiles(under: root)
    let shownRoot = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    var read: [ResourceID: ManifestDocument] = [:]
    for relative in files {
      guard let text = try? String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8) else {
        continue
      }
      for document in DocumentSplitter.split(text, source: shownRoot + "/" + relative) {
        guard let id = ManifestLoader().load(documents: [document], cache: documents).resourceIDs.first,
          read[id] == nil
        else {
          continue
        }
        read[id] = document
      }
    }
    documents.trim()
    return known.withLock { known in
      let changed =
        read.count != known.objects.count || read.contains { known.objects[$0.key]?.document != $0.value }
      if changed || known.revision == 0 { known.revision += 1 }
      var objects: [ResourceID: StoredObject] = [:]
      for (id, document) in read {
        let previous = known.objects[id]
        let stamp =
          previous?.document == document
          ? previous!.stamp
          : nextStamp(previous: previous, document: document, revision: known.revision)
        objects[id] = StoredObject(id: id, document: document, stamp: stamp)
      }
      known.objects = objects
      return (objects.values.sorted { $0.id < $1.id }, known.revision)
    }
  }

  public func put(_ id: ResourceID, document: ManifestDocument, expectedVersion: String?) async throws
    -> StoredObject
  {
    throw StoreError.readOnly(readOnlyReason!)
  }

  public func delete(_ id: ResourceID, expectedVersion: String?) async throws -> StoredObject {
    throw StoreError.readOnly(readOnlyReason!)
  }

  public func externalChanges() -> AsyncStream<Void> {
    let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    let task = Task { [directory, interval] in
      var last = Self.fingerprint(directory)
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        let next = Self.fingerprint(directory)
        if next != last {
          last = next
          continuation.yield()
        }
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  private static func fingerprint(_ directory: String) -> [String] {
    let root = URL(fileURLWithPath: directory)
    return ((try? ManifestLoader.manifestFiles(under: root)) ?? []).map { relative in
      let attributes = try? FileManager.default.attributesOfItem(
        atPath: root.appendingPathComponent(relative).path)
      let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
      let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      return "\(relative)|\(size)|\(modified)"
    }
  }
}
