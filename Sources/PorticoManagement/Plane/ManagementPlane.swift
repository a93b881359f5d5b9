import Foundation
import Logging

/// The management plane's state: every resource (from its store), the translator's verdict on them, the
/// gateways that connect over the relay and what each runs. One actor, so that writes, status and pushes see
/// one consistent picture.
public actor ManagementPlane {
  public let store: any ResourceStore
  let logger: Logger
  private(set) var objects: [ResourceID: StoredObject] = [:]
  /// Services and Endpoints each cluster's agent reported, by cluster. Not in the store: an agent reports its
  /// cluster again whenever it reconnects.
  private var reported: [String: [ResourceID: StoredObject]] = [:]
  /// Each cluster's agent, by cluster: when it last reported and the health it reported.
  private var agents: [String: AgentRecord] = [:]
  public private(set) var revision: Int64 = 0
  private var snapshot = ResourceSnapshot()
  /// The translator's verdict on every resource, made when first asked for after a change (it translates
  /// everything, which a push does not need).
  private var statuses: (revision: Int64, byID: [ResourceID: ResourceStatus])?
  /// Documents parsed and validated already: a change to one document does not parse the others again.
  private let documents = DocumentCache()
  private var gateways: [String: GatewayRecord] = [:]
  private var shipments: [GatewayIdentity: ShippedSnapshot] = [:]
  /// What each gateway acknowledged last, by gateway: what it runs.
  private var running: [String: ShippedSnapshot] = [:]
  private var sessions: [String: (id: UUID, wake: AsyncStream<Void>.Continuation)] = [:]
  private var watchers: [UUID: AsyncStream<WatchEvent>.Continuation] = [:]
  private var externalWatch: Task<Void, Never>?
  private(set) var metrics = PlaneMetrics()
  /// When each revision was written, for the push latency of the gateways that acknowledge it.
  private var writtenAt: [Int64: ContinuousClock.Instant] = [:]

  /// The mesh CA the plane made; a VirtualMesh naming a root Secret of its own replaces it.
  private let generatedMesh: MeshAuthority?
  /// Each gateway's mesh identity, made once per CA.
  private var meshIdentities: [String: (ca: String, manifest: ShippedManifest)] = [:]

  /// The other replicas' gateways (with an etcd store).
  private var shared: SharedGatewayRecords?

  /// Where the agents' reports are kept, so that a plane that restarts ships the registry at once instead of
  /// waiting for every agent to report again.
  private let registryFile: URL?

  public init(
    store: any ResourceStore, logger: Logger = Logger(label: "portico.mgmt"), mesh: MeshAuthority? = nil,
    registryFile: String? = nil
  ) {
    self.store = store
    self.logger = logger
    generatedMesh = mesh
    self.registryFile = registryFile.map { URL(fileURLWithPath: $0) }
  }

  /// Loads the store and follows changes made to it by other hands.
  public func start() async throws {
    if let registryFile, let data = try? Data(contentsOf: registryFile),
      let saved = try? JSONDecoder().decode([String: [StoredObject]].self, from: data)
    {
      reported = saved.mapValues {
        Dictionary($0.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
      }
    }
    try await reload()
    let changes = store.externalChanges()
    externalWatch = Task { [weak self] in
      for await _ in changes {
        do { try await self?.reload() } catch { await self?.logLoadFailure(error) }
      }
    }
  }

  func use(_ metrics: PlaneMetrics) { self.metrics = metrics }

  func share(through records: SharedGatewayRecords) { shared = records }

  /// This replica's gateways and, with replicas, the others': a gateway connected somewhere shows as such.
  public func allGatewayRecords() async -> [GatewayRecord] {
    var records = gateways
    for record in await shared?.all() ?? [] {
      let key = record.identity.displayName
      if records[key] == nil || (records[key]?.connected == false && record.connected) {
        records[key] = record
      }
    }
    return records.values.sorted { $0.identity.displayName < $1.identity.displayName }
  }

  /// What a gateway connected to this replica runs: its identity and the snapshot it acknowledged last.
  public func runningConfiguration(of gateway: String) -> (
    identity: GatewayIdentity, snapshot: ShippedSnapshot
  )? {
    guard let record = gateways[gateway], let snapshot = running[gateway] else { return nil }
    return (record.identity, snapshot)
  }

  /// Tells the other replicas what changed about a gateway.
  private func announce(_ key: String) {
    guard let shared, let record = gateways[key] else { return }
    Task { await shared.publish(record) }
  }

  public func stop() {
    externalWatch?.cancel()
    for (_, session) in sessions { session.wake.finish() }
    for (_, watcher) in watchers { watcher.finish() }
  }

  private func logLoadFailure(_ error: any Error) {
    logger.error("cannot load the store; the last good state stays", metadata: ["error": "\(error)"])
  }

  private func reload() async throws {
    let (loaded, revision) = try await store.load()
    let next = Dictionary(loaded.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    var events: [WatchEvent] = []
    for (id, object) in next where objects[id] != object {
      events.append(WatchEvent(kind: objects[id] == nil ? .added : .modified, object: object))
    }
    for (id, object) in objects where next[id] == nil {
      events.append(WatchEvent(kind: .deleted, object: object))
    }
    // A periodic resync that finds nothing new changes nothing: no new generation, no push.
    guard !events.isEmpty || self.revision == 0 else { return }
    objects = next
    self.revision = max(self.revision + 1, revision)
    rebuild(announcing: events)
  }

  // MARK: - Resources

  /// The store's resources and the registry the agents reported; the store's win a clash.
  private var everything: [ResourceID: StoredObject] {
    var all = objects
    for (_, cluster) in reported {
      for (id, object) in cluster where all[id] == nil { all[id] = object }
    }
    return all
  }

  public var allObjects: [StoredObject] { everything.values.sorted { $0.id < $1.id } }

  public func object(_ id: ResourceID) -> StoredObject? { objects[id] ?? reported[id.cluster ?? ""]?[id] }

  /// Every cluster's agent that reported to this replica, by cluster name.
  public var agentRecords: [AgentRecord] { agents.values.sorted { $0.cluster < $1.cluster } }

  /// Replaces what `cluster`'s agent reported before; returns the reported manifests' diagnostics.
  func report(
    cluster: String, manifests: [ShippedManifest], health: [AgentRecord.Endpoint] = [],
    refreshSeconds: Int = 10
  ) -> [String] {
    agents[cluster] = AgentRecord(
      cluster: cluster, lastReport: Date(), refreshSeconds: refreshSeconds, endpoints: health)
    var next: [ResourceID: StoredObject] = [:]
    var diagnostics: [Diagnostic] = []
    let previous = reported[cluster] ?? [:]
    for manifest in manifests {
      let (id, found, _) = Self.identify(manifest.document, cache: documents)
      diagnostics += found
      guard let id, id.cluster == cluster, id.kind == .service || id.kind == .endpoints else { continue }
      if let kept = previous[id], kept.document == manifest.document {
        next[id] = kept
        continue
      }
      next[id] = StoredObject(
        id: id, document: manifest.document,
        stamp: nextStamp(previous: previous[id], document: manifest.document, revision: revision + 1))
    }
    guard next != previous else { return diagnostics.map(\.description) }
    var events: [WatchEvent] = []
    for (id, object) in next where previous[id] != object {
      events.append(WatchEvent(kind: previous[id] == nil ? .added : .modified, object: object))
    }
    for (id, object) in previous where next[id] == nil {
      events.append(WatchEvent(kind: .deleted, object: object))
    }
    reported[cluster] = next
    saveRegistry()
    revision += 1
    rebuild(announcing: events)
    logger.info("registry reported", metadata: ["cluster": "\(cluster)", "resources": "\(next.count)"])
    return diagnostics.map(\.description)
  }

  private func saveRegistry() {
    guard let registryFile else { return }
    do {
      let data = try JSONEncoder().encode(reported.mapValues { $0.values.sorted { $0.id < $1.id } })
      try data.write(to: registryFile, options: .atomic)
    } catch {
      logger.warning("cannot keep the registry for the next start", metadata: ["error": "\(error)"])
    }
  }

  /// The outcome of a write that decoding and validation refused: every error, with its place in the
  /// document.
  public struct Refusal: Error, Sendable {
    public var diagnostics: [Diagnostic]
  }

  /// Decodes and validates a manifest as `portico validate` does, and stores it when it has no errors.
  /// Translation-level problems (a destination not registered yet) do not refuse it: they show in status.
  /// What a write is for: replacing the resource a path names (with optimistic concurrency when the
  /// manifest gives its `metadata.resourceVersion`), or creating one in a collection.
  public enum WriteIntent: Sendable {
    case replace(ResourceID)
    case create(ResourceKind, namespace: String?)
  }

  /// A manifest posted to a collection it does not belong to.
  public struct WrongCollection: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  public func write(_ document: ManifestDocument, intent: WriteIntent) async throws -> StoredObject {
    let (id, diagnostics, metadata) = Self.identify(document, cache: documents)
    if case .create(let kind, let namespace) = intent, let id,
      kind != id.kind || (namespace != nil && namespace != id.namespace)
    {
      throw WrongCollection(description: "the manifest is \(id); post it to its own collection")
    }
    guard let id, !diagnostics.hasErrors else {
      throw Refusal(diagnostics: diagnostics.filter(\.isError))
    }
    let expectedVersion: String?
    switch intent {
    case .create:
      expectedVersion = "0"
    case .replace(let target):
      guard target == id else {
        throw Refusal(diagnostics: [
          Diagnostic(
            .error, at: SourceLocation(file: document.source, line: document.firstLine, column: 1),
            "the manifest is \(id), but the request names \(target)")
        ])
      }
      expectedVersion = metadata?.resourceVersion
    }
    let stored = try await store.put(id, document: document, expectedVersion: expectedVersion)
    guard objects[id] != stored else { return stored }
    let event = WatchEvent(kind: objects[id] == nil ? .added : .modified, object: stored)
    objects[id] = stored
    // Every change moves the plane on, whatever the store counts (agents' reports are not in it).
    revision = max(revision + 1, Int64(stored.stamp.resourceVersion) ?? 0)
    rebuild(announcing: [event])
    return stored
  }

  public func delete(_ id: ResourceID, expectedVersion: String?) async throws -> StoredObject {
    let deleted = try await store.delete(id, expectedVersion: expectedVersion)
    objects[id] = nil
    revision += 1
    rebuild(announcing: [WatchEvent(kind: .deleted, object: deleted)])
    return deleted
  }

  /// The single resource a document holds, and the diagnostics of reading it.
  static func identify(_ document: ManifestDocument, cache: DocumentCache? = nil) -> (
    ResourceID?, [Diagnostic], ObjectMeta?
  ) {
    let snapshot = ManifestLoader().load(documents: [document], cache: cache)
    let ids = snapshot.resourceIDs
    var diagnostics = snapshot.allDiagnostics
    if ids.count > 1 {
      diagnostics.append(
        Diagnostic(
          .error, at: SourceLocation(file: document.source, line: document.firstLine, column: 1),
          "one manifest per request; this one holds \(ids.count)"))
    }
    if ids.isEmpty && !diagnostics.hasErrors {
      diagnostics.append(
        Diagnostic(
          .error, at: SourceLocation(file: document.source, line: document.firstLine, column: 1),
          "the request holds no manifest Portico serves"))
    }
    return (ids.first, diagnostics, ids.first.flatMap(snapshot.metadata(of:)))
  }

  private func rebuild(announcing events: [WatchEvent]) {
    writtenAt[revision] = .now
    if writtenAt.count > 64 { writtenAt = writtenAt.filter { $0.key > revision - 64 } }
    let ordered = allObjects
    var loaded = ManifestLoader().load(documents: ordered.map(\.document), cache: documents)
    documents.trim()
    loaded.stamp(Dictionary(uniqueKeysWithValues: ordered.map { ($0.id, $0.stamp) }))
    snapshot = loaded
    for event in events {
      for (_, watcher) in watchers { watcher.yield(event) }
    }
    for (_, session) in sessions { session.wake.yield() }
  }

  // MARK: - Watching

  /// Every change from now on, until the stream is dropped.
  public func watch() -> AsyncStream<WatchEvent> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: WatchEvent.self, bufferingPolicy: .bufferingNewest(10_000))
    let id = UUID()
    watchers[id] = continuation
    continuation.onTermination = { _ in Task { await self.dropWatcher(id) } }
    return stream
  }

  private func dropWatcher(_ id: UUID) { watchers[id] = nil }

  // MARK: - Status

  /// The translator's verdict on a resource (nil when it has none, as for a Secret).
  public func acceptance(of id: ResourceID) -> ResourceStatus? {
    if statuses?.revision != revision {
      let checked = Translator().check(snapshot).statuses
      statuses = (
        revision, Dictionary(checked.map { ($0.resource, $0) }, uniquingKeysWith: { first, _ in first })
      )
    }
    return statuses?.byID[id]
  }

  public var gatewayRecords: [GatewayRecord] {
    gateways.values.sorted { $0.identity.displayName < $1.identity.displayName }
  }

  // MARK: - Gateways

  /// What `identity` translates: every resource but the Secrets its own listeners do not name, and its
  /// mesh identity. Made once per revision and gateway.
  public func shipment(for identity: GatewayIdentity) -> ShippedSnapshot {
    if let cached = shipments[identity], cached.generation == revision { return cached }
    let secrets = Self.secretsNamed(by: snapshot, for: identity)
    var manifests: [String: ShippedManifest] = [:]
    for object in everything.values where object.id.kind != .secret || secrets.contains(object.id) {
      let key = relayKey(object.id)
      manifests[key] = ShippedManifest(key: key, document: object.document, stamp: object.stamp)
    }
    if let mesh = meshIdentity(for: identity) { manifests[mesh.key] = mesh }
    let shipment = ShippedSnapshot(generation: revision, manifests: manifests)
    if shipments.count > 10_000 { shipments = [:] }
    shipments[identity] = shipment
    return shipment
  }

  /// The TLS Secrets the VirtualGateways selecting `identity` name (looked up in the gateway's namespace),
  /// found without translating the whole configuration.
  static func secretsNamed(by snapshot: ResourceSnapshot, for identity: GatewayIdentity) -> Set<ResourceID> {
    var names = Set<String>()
    for gateway in snapshot.virtualGateways {
      for handler in gateway.spec.connectionHandlers ?? [] {
        if let name = handler.connectionOptions?.sslConfig?.secretName { names.insert(name) }
      }
    }
    return Set(names.map { ResourceID(.secret, namespace: identity.namespace, name: $0) })
  }

  /// The mesh CA: the Secret a VirtualMesh's `mtlsConfig.shared.rootCertificateAuthority.secret` names, or the
  /// plane's own.
  private var meshAuthority: MeshAuthority? {
    for mesh in snapshot.virtualMeshes {
      guard let ref = mesh.spec.mtlsConfig?.shared?.rootCertificateAuthority?.secret else { continue }
      let id = ResourceID(.secret, namespace: ref.namespace ?? mesh.namespace, name: ref.name)
      guard let secret = snapshot.secrets.first(where: { $0.id == id }),
        let certificate = secret.spec.value(for: "tls.crt"), let key = secret.spec.value(for: "tls.key"),
        let authority = try? MeshAuthority(
          certificatePEM: String(decoding: certificate, as: UTF8.self),
          keyPEM: String(decoding: key, as: UTF8.self))
      else {
        logger.error("the VirtualMesh's root CA Secret cannot be used", metadata: ["secret": "\(id)"])
        return nil
      }
      return authority
    }
    return generatedMesh
  }

  /// A gateway's mesh identity Secret, made for it the first time it is asked for (and again when the CA
  /// changes).
  private func meshIdentity(for identity: GatewayIdentity) -> ShippedManifest? {
    guard let authority = meshAuthority else { return nil }
    let key = identity.displayName
    let ca = authority.certificatePEM
    if let made = meshIdentities[key], made.ca == ca { return made.manifest }
    guard let text = try? authority.identityManifest(for: identity) else { return nil }
    let manifest = ShippedManifest(
      key: relayKey(EastWestGateway.identitySecret(for: identity)),
      document: ManifestDocument(source: "<mesh identity of \(key)>", text: text),
      stamp: ObjectStamp(
        generation: 1, resourceVersion: String(revision), creationTimestamp: timestamp(),
        uid: UUID().uuidString.lowercased()))
    meshIdentities[key] = (ca, manifest)
    return manifest
  }

  /// Registers a connected gateway; the stream wakes its session whenever what it should run may have changed.
  func connect(_ identity: GatewayIdentity) -> (session: UUID, wakes: AsyncStream<Void>) {
    let key = identity.displayName
    // A gateway that reconnects before its old stream is noticed gone replaces it.
    sessions[key]?.wake.finish()
    let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    let session = UUID()
    sessions[key] = (session, continuation)
    var record = gateways[key] ?? GatewayRecord(identity: identity)
    record.identity = identity
    record.connected = true
    gateways[key] = record
    announce(key)
    continuation.yield()
    logger.info("gateway connected", metadata: ["gateway": "\(key)"])
    return (session, stream)
  }

  func disconnect(_ identity: GatewayIdentity, session: UUID) {
    let key = identity.displayName
    guard sessions[key]?.id == session else { return }
    gateways[key]?.connected = false
    sessions[key] = nil
    announce(key)
    logger.info("gateway disconnected", metadata: ["gateway": "\(key)"])
  }

  func sent(_ change: Portico_Relay_V1_Snapshot) {
    metrics.snapshotsSent.increment()
    metrics.manifestsSent.increment(by: Int64(change.upserts.count))
    metrics.snapshotBytes.increment(by: Int64((try? change.serializedBytes() as [UInt8])?.count ?? 0))
  }

  /// Ends a gateway's stream (its certificate was revoked).
  func evict(_ identity: GatewayIdentity) {
    sessions[identity.displayName]?.wake.finish()
  }

  /// The gateway runs `shipment`.
  func runs(_ identity: GatewayIdentity, _ shipment: ShippedSnapshot) {
    let key = identity.displayName
    if gateways[key]?.generation != shipment.generation, let written = writtenAt[shipment.generation] {
      metrics.pushLatency.record(ContinuousClock.now - written)
    }
    gateways[key]?.generation = shipment.generation
    gateways[key]?.running = shipment.manifests.mapValues(\.stamp.generation)
    running[key] = shipment
    gateways[key]?.lastError = nil
    gateways[key]?.refusedGeneration = nil
    announce(key)
  }

  func refused(_ identity: GatewayIdentity, generation: Int64, errors: [String]) {
    let key = identity.displayName
    gateways[key]?.lastError = errors.joined(separator: "\n")
    gateways[key]?.refusedGeneration = generation
    metrics.snapshotRefusals.increment()
    announce(key)
    logger.warning(
      "gateway refused a snapshot", metadata: ["gateway": "\(key)", "generation": "\(generation)"])
  }
}
