import Foundation
import GRPCCore
import Logging
import Synchronization

/// A cluster's agent: reports the Services and Endpoints of its cluster to the plane, stamped with the
/// cluster's name and, for endpoints that do not say otherwise, its locality. A folder of manifests stands
/// in for the cluster's API server; every change is reported, and the whole set again now and then, so that
/// a plane that restarted learns it.
public final class ClusterAgent: Sendable {
  public struct Options: Sendable {
    public var link: RelayLink
    public var cluster: String
    public var locality: StaticDestinationSpec.Locality?
    public var directory: String
    public var interval: Duration = .milliseconds(500)
    /// The whole set is reported again after this long without a change.
    public var refresh: Duration = .seconds(10)

    public init(
      link: RelayLink, cluster: String, locality: StaticDestinationSpec.Locality?, directory: String
    ) {
      self.link = link
      self.cluster = cluster
      self.locality = locality
      self.directory = directory
    }
  }

  public let options: Options
  private let logger: Logger
  private let reported = Mutex<(count: Int, lastError: String?)>((0, nil))

  public init(options: Options, logger: Logger) {
    self.options = options
    self.logger = logger
  }

  /// Reports sent and accepted so far, and the last failure.
  public var progress: (reports: Int, lastError: String?) { reported.withLock { ($0.count, $0.lastError) } }

  public func run() async {
    var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))
    var sent: [ShippedManifest]?
    var sentAt = ContinuousClock.now
    while !Task.isCancelled {
      let manifests = read()
      if manifests != sent || ContinuousClock.now - sentAt >= options.refresh {
        do {
          try await report(manifests)
          sent = manifests
          sentAt = .now
          backoff.reset()
        } catch {
          if let error = error as? RPCError, error.code == .unauthenticated || error.code == .permissionDenied
          {
            options.link.forgetCredentials()
          }
          reported.withLock { $0.lastError = "\(error)" }
          logger.warning("agent: cannot report to the plane: \(error)")
          await backoff.wait()
          continue
        }
      }
      try? await Task.sleep(for: options.interval)
    }
  }

  private func report(_ manifests: [ShippedManifest]) async throws {
    let credentials = try await options.link.credentials(logger: logger)
    let request = Portico_Relay_V1_RegistryReport.with {
      $0.cluster = options.cluster
      $0.manifests = manifests.map(\.message)
    }
    let answer = try await options.link.withClient(presenting: credentials) { relay in
      try await relay.report(request, options: RelayLink.callOptions)
    }
    reported.withLock {
      $0.count += 1
      $0.lastError = nil
    }
    for diagnostic in answer.diagnostics { logger.warning("agent: \(diagnostic)") }
    logger.info(
      "agent: reported", metadata: ["cluster": "\(options.cluster)", "manifests": "\(manifests.count)"])
  }

  /// The folder's Services and Endpoints, as JSON, with `metadata.clusterName` set to the cluster and, on
  /// Endpoints, the locality labels the agent's locality gives when they are not there.
  func read() -> [ShippedManifest] {
    let root = URL(fileURLWithPath: options.directory)
    var manifests: [ShippedManifest] = []
    for relative in (try? ManifestLoader.manifestFiles(under: root)) ?? [] {
      guard let text = try? String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8) else {
        continue
      }
      let source = "\(options.cluster):\(relative)"
      for node in YAMLComposer(file: source).read(text).documents {
        guard var object = node.jsonValue as? [String: Any], let kind = object["kind"] as? String,
          kind == "Service" || kind == "Endpoints"
        else { continue }
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        metadata["clusterName"] = options.cluster
        if kind == "Endpoints", let locality = options.locality {
          var labels = metadata["labels"] as? [String: Any] ?? [:]
          if labels["topology.kubernetes.io/region"] == nil, labels["topology.kubernetes.io/zone"] == nil {
            labels["topology.kubernetes.io/region"] = locality.region
            if let zone = locality.zone { labels["topology.kubernetes.io/zone"] = zone }
          }
          metadata["labels"] = labels
        }
        object["metadata"] = metadata
        guard
          let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
          let name = metadata["name"] as? String
        else { continue }
        let namespace = metadata["namespace"] as? String ?? ObjectMeta.defaultNamespace
        let id = ResourceID(
          kind == "Service" ? .service : .endpoints, namespace: namespace, name: name,
          cluster: options.cluster)
        manifests.append(
          ShippedManifest(
            key: relayKey(id),
            document: ManifestDocument(source: source, text: String(decoding: data, as: UTF8.self)),
            stamp: ObjectStamp(generation: 1, resourceVersion: "", creationTimestamp: "", uid: "")))
      }
    }
    return manifests.sorted { $0.key < $1.key }
  }
}
