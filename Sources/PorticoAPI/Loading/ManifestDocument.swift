import Foundation

/// One manifest as a store keeps it: its text, and where it was written, so that diagnostics name the
/// user's file and line even though the document travelled on its own (through an API or a relay).
public struct ManifestDocument: Sendable, Hashable, Codable {
  /// The file the document came from, as the user named it.
  public var source: String
  /// The line of `source` the document starts on (1-based).
  public var firstLine: Int
  public var text: String

  public init(source: String, firstLine: Int = 1, text: String) {
    self.source = source
    self.firstLine = max(1, firstLine)
    self.text = text
  }

  /// The text padded with blank lines, so that line numbers the parser reports are the file's.
  var positionedText: String { String(repeating: "\n", count: firstLine - 1) + text }
}

/// What a store adds to a resource's metadata: the fields Kubernetes' API server maintains.
public struct ObjectStamp: Sendable, Hashable, Codable {
  public var generation: Int64
  public var resourceVersion: String
  public var creationTimestamp: String
  public var uid: String

  public init(generation: Int64, resourceVersion: String, creationTimestamp: String, uid: String) {
    self.generation = generation
    self.resourceVersion = resourceVersion
    self.creationTimestamp = creationTimestamp
    self.uid = uid
  }
}

extension ManifestLoader {
  /// Loads documents kept apart (by a store or a relay) as one folder. With a cache, a document read before
  /// is not parsed or validated again: a change to one document of many costs that document.
  public func load(
    documents: [ManifestDocument], stamps: [ResourceID: ObjectStamp] = [:], cache: DocumentCache? = nil
  ) -> ResourceSnapshot {
    var snapshot: ResourceSnapshot
    if let cache {
      snapshot = ResourceSnapshot()
      for document in documents { snapshot.absorb(cache.read(document) { read($0) }) }
      snapshot.rejectDuplicates()
      snapshot.sortResources()
    } else {
      snapshot = load(files: documents.map { ($0.source, $0.positionedText) })
    }
    if !stamps.isEmpty { snapshot.stamp(stamps) }
    return snapshot
  }

  /// One document, parsed and validated on its own (validation looks at one resource at a time).
  private func read(_ document: ManifestDocument) -> ResourceSnapshot {
    var snapshot = ResourceSnapshot()
    add(document.positionedText, file: document.source, to: &snapshot)
    Validator.validate(&snapshot)
    return snapshot
  }
}

/// Documents already read, by their text and place, kept between loads of a snapshot that changes a
/// document at a time. Documents not used since the last trim are dropped by it. Thread-safe.
public final class DocumentCache: @unchecked Sendable {
  private let lock = NSLock()
  private var entries: [ManifestDocument: ResourceSnapshot] = [:]
  private var used: Set<ManifestDocument> = []

  public init() {}

  func read(_ document: ManifestDocument, _ make: (ManifestDocument) -> ResourceSnapshot) -> ResourceSnapshot
  {
    let found = lock.withLock { () -> ResourceSnapshot? in
      used.insert(document)
      return entries[document]
    }
    if let found { return found }
    let made = make(document)
    lock.withLock { entries[document] = made }
    return made
  }

  /// Forgets the documents not read since the last call.
  public func trim() {
    lock.withLock {
      entries = entries.filter { used.contains($0.key) }
      used = []
    }
  }
}

extension ResourceSnapshot {
  /// Adds another snapshot's resources, diagnostics and regexes.
  mutating func absorb(_ other: ResourceSnapshot) {
    virtualGateways += other.virtualGateways
    virtualHosts += other.virtualHosts
    routeTables += other.routeTables
    trafficPolicies += other.trafficPolicies
    staticDestinations += other.staticDestinations
    virtualDestinations += other.virtualDestinations
    virtualMeshes += other.virtualMeshes
    rateLimitServerConfigs += other.rateLimitServerConfigs
    rateLimitClientConfigs += other.rateLimitClientConfigs
    authConfigs += other.authConfigs
    services += other.services
    endpoints += other.endpoints
    secrets += other.secrets
    configMaps += other.configMaps
    broken += other.broken
    diagnostics += other.diagnostics
    regexes.absorb(other.regexes)
  }
}

extension ResourceSnapshot {
  /// Sets the store-maintained metadata of the resources named in `stamps`.
  public mutating func stamp(_ stamps: [ResourceID: ObjectStamp]) {
    func apply<Spec>(_ list: inout [Resource<Spec>]) {
      for index in list.indices {
        guard let stamp = stamps[list[index].id] else { continue }
        list[index].metadata.generation = stamp.generation
        list[index].metadata.resourceVersion = stamp.resourceVersion
        list[index].metadata.uid = stamp.uid
        if list[index].metadata.creationTimestamp == nil {
          list[index].metadata.creationTimestamp = stamp.creationTimestamp
        }
      }
    }
    apply(&virtualGateways)
    apply(&virtualHosts)
    apply(&routeTables)
    apply(&trafficPolicies)
    apply(&staticDestinations)
    apply(&virtualDestinations)
    apply(&virtualMeshes)
    apply(&rateLimitServerConfigs)
    apply(&rateLimitClientConfigs)
    apply(&authConfigs)
    apply(&services)
    apply(&endpoints)
    apply(&secrets)
    apply(&configMaps)
  }

  /// The metadata of the resource `id`, whatever its kind.
  public func metadata(of id: ResourceID) -> ObjectMeta? {
    func find<Spec>(_ list: [Resource<Spec>]) -> ObjectMeta? { list.first { $0.id == id }?.metadata }
    let finders: [() -> ObjectMeta?] = [
      { find(virtualGateways) }, { find(virtualHosts) }, { find(routeTables) }, { find(trafficPolicies) },
      { find(staticDestinations) }, { find(virtualDestinations) }, { find(virtualMeshes) },
      { find(rateLimitServerConfigs) }, { find(rateLimitClientConfigs) }, { find(authConfigs) },
      { find(services) },
      { find(endpoints) }, { find(secrets) }, { find(configMaps) },
    ]
    for finder in finders {
      if let found = finder() { return found }
    }
    return nil
  }

  /// Every resource's identity, whatever its kind.
  public var resourceIDs: [ResourceID] {
    var ids: [ResourceID] = virtualGateways.map(\.id) + virtualHosts.map(\.id) + routeTables.map(\.id)
    ids += trafficPolicies.map(\.id) + staticDestinations.map(\.id) + virtualDestinations.map(\.id)
    ids += virtualMeshes.map(\.id) + rateLimitServerConfigs.map(\.id) + rateLimitClientConfigs.map(\.id)
    ids += authConfigs.map(\.id)
    ids += services.map(\.id) + endpoints.map(\.id) + secrets.map(\.id) + configMaps.map(\.id)
    return ids
  }

}
