import AsyncHTTPClient
import Foundation
import GRPCCore
import Logging
import NIOCore
import Synchronization

/// A cluster's agent: reports the Services and Endpoints of its cluster to the plane, stamped with the
/// cluster's name and, for endpoints that do not say otherwise, its locality. A folder of manifests stands
/// in for the cluster's API server; every change is reported, and the whole set again now and then, so that
/// a plane that restarted learns it. Given its gateway's admin listener, the agent reports each endpoint's
/// health as that gateway's outlier detection sees it.
public final class ClusterAgent: Sendable {
  public struct Options: Sendable {
    public var link: RelayLink
    public var cluster: String
    public var locality: StaticDestinationSpec.Locality?
    public var directory: String
    public var interval: Duration = .milliseconds(500)
    /// The whole set is reported again after this long without a change.
    public var refresh: Duration = .seconds(10)
    /// `HOST:PORT` of the cluster's gateway's admin listener, read for endpoint health.
    public var gatewayAdmin: String?

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
  /// The last failure to read the gateway's health, logged once until it changes.
  private let healthError = Mutex<String?>(nil)

  public init(options: Options, logger: Logger) {
    self.options = options
    self.logger = logger
  }

  /// Reports sent and accepted so far, and the last failure.
  public var progress: (reports: Int, lastError: String?) { reported.withLock { ($0.count, $0.lastError) } }

  public func run() async {
    var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))
    var sent: (manifests: [ShippedManifest], health: [Portico_Relay_V1_EndpointHealth])?
    var sentAt = ContinuousClock.now
    while !Task.isCancelled {
      let reading = read()
      let manifests = reading.manifests
      let health = await health(of: reading.addresses)
      if manifests != sent?.manifests || health != sent?.health
        || ContinuousClock.now - sentAt >= options.refresh
      {
        do {
          try await report(manifests, health: health)
          sent = (manifests, health)
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

  private func report(_ manifests: [ShippedManifest], health: [Portico_Relay_V1_EndpointHealth]) async throws
  {
    let credentials = try await options.link.credentials(logger: logger)
    let request = Portico_Relay_V1_RegistryReport.with {
      $0.cluster = options.cluster
      $0.manifests = manifests.map(\.message)
      $0.health = health
      $0.refreshSeconds = Int32(clamping: options.refresh.components.seconds)
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

  /// An address of an Endpoints object, as the folder gives it.
  struct EndpointAddress: Equatable {
    let namespace: String
    let name: String
    let address: String
    let port: Int
  }

  /// The health of `addresses` as the gateway sees them; empty when the agent reads no gateway.
  func health(of addresses: [EndpointAddress]) async -> [Portico_Relay_V1_EndpointHealth] {
    guard let admin = options.gatewayAdmin else { return [] }
    var seen: [String: (ejected: Bool, ejections: Int)] = [:]
    do {
      let request = HTTPClientRequest(url: "http://\(admin)/endpoints")
      let response = try await HTTPClient.shared.execute(request, timeout: .seconds(2))
      let body = try await response.body.collect(upTo: 64 << 20)
      for record in try JSONDecoder().decode([EndpointHealth].self, from: Data(body.readableBytesView))
      where record.cluster == options.cluster {
        let key = "\(record.address):\(record.port)"
        let known = seen[key] ?? (false, 0)
        seen[key] = (known.ejected || record.ejected, known.ejections + record.ejections)
      }
      healthError.withLock { $0 = nil }
    } catch {
      // Reported as unknown: the plane shows the agent cannot see its gateway rather than stale health.
      let message = "\(error)"
      let isNew = healthError.withLock { last in
        defer { last = message }
        return last != message
      }
      if isNew { logger.warning("agent: cannot read the gateway's endpoint health at \(admin): \(message)") }
    }
    return addresses.map { address in
      .with {
        $0.namespace = address.namespace
        $0.name = address.name
        $0.address = address.address
        $0.port = Int32(clamping: address.port)
        if let record = seen["\(address.address):\(address.port)"] {
          $0.state = record.ejected ? .ejected : .healthy
          $0.ejections = Int32(clamping: record.ejections)
        } else {
          $0.state = .unknown
        }
      }
    }
  }

  /// The folder's Services and Endpoints, as JSON, with `metadata.clusterName` set to the cluster and, on
  /// Endpoints, the locality labels the agent's locality gives when they are not there; and every address
  /// the Endpoints list.
  func read() -> (manifests: [ShippedManifest], addresses: [EndpointAddress]) {
    let root = URL(fileURLWithPath: options.directory)
    var manifests: [ShippedManifest] = []
    var addresses: [EndpointAddress] = []
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
        if kind == "Endpoints" {
          addresses += Self.addresses(of: object, namespace: namespace, name: name)
        }
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
    return (manifests.sorted { $0.key < $1.key }, addresses)
  }

  /// Each address of an Endpoints object with each of its subset's ports.
  private static func addresses(of object: [String: Any], namespace: String, name: String)
    -> [EndpointAddress]
  {
    var found: [EndpointAddress] = []
    for subset in object["subsets"] as? [[String: Any]] ?? [] {
      let ports = (subset["ports"] as? [[String: Any]] ?? []).compactMap {
        ($0["port"] as? NSNumber)?.intValue
      }
      for address in subset["addresses"] as? [[String: Any]] ?? [] {
        guard let ip = address["ip"] as? String else { continue }
        found += ports.map { EndpointAddress(namespace: namespace, name: name, address: ip, port: $0) }
      }
    }
    return found
  }
}
