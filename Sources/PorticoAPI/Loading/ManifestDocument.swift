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
  /// Loads documents kept apart (by a store or a relay) as one folder.
  public func load(documents: [ManifestDocument], stamps: [ResourceID: ObjectStamp] = [:]) -> ResourceSnapshot
  {
    var snapshot = load(files: documents.map { ($0.source, $0.positionedText) })
    if !stamps.isEmpty { snapshot.stamp(stamps) }
    return snapshot
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
    apply(&services)
    apply(&endpoints)
    apply(&secrets)
  }

  /// Every resource's identity, whatever its kind.
  public var resourceIDs: [ResourceID] {
    virtualGateways.map(\.id) + virtualHosts.map(\.id) + routeTables.map(\.id) + trafficPolicies.map(\.id)
      + staticDestinations.map(\.id) + virtualDestinations.map(\.id) + virtualMeshes.map(\.id)
      + services.map(\.id) + endpoints.map(\.id) + secrets.map(\.id)
  }
}
