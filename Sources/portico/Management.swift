import ArgumentParser
import Foundation
import Logging
import PorticoManagement
import PorticoProxy
import PorticoRelay
import ServiceLifecycle

struct Mgmt: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the management plane: the resource store, its REST API, and the relay gateways connect to."
  )

  @Option(
    help: ArgumentHelp(
      "Where resources live: sqlite:PATH (the default), a folder served read-only, or etcd://HOST:PORT[,...].",
      valueName: "store"))
  var store = "sqlite:portico-mgmt.db"

  @Option(help: "The REST API's address, as ADDRESS:PORT.")
  var listen = "127.0.0.1:9900"

  @Option(help: "The relay's address, as ADDRESS:PORT.")
  var relay = "127.0.0.1:9977"

  @Option(name: .customLong("data-dir"), help: "Where the plane keeps its tokens and relay CA.")
  var dataDirectory = "portico-mgmt"

  @Option(help: "A name or address gateways dial the relay by (besides localhost and 127.0.0.1). Repeatable.")
  var advertise: [String] = []

  @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain for the API (plain HTTP without it).")
  var tlsCertificate: String?

  @Option(name: .customLong("tls-key"), help: "The PEM key of --tls-cert.")
  var tlsKey: String?

  func run() async throws {
    var options = ManagementServer.Options()
    (options.apiHost, options.apiPort) = try hostAndPort(listen, flag: "--listen")
    (options.relayHost, options.relayPort) = try hostAndPort(relay, flag: "--relay")
    if options.relayHost == "localhost" { options.relayHost = "127.0.0.1" }
    guard options.relayHost.split(separator: ".").count == 4,
      options.relayHost.allSatisfy({ $0.isNumber || $0 == "." })
    else {
      throw ValidationError("--relay needs an IPv4 address (or localhost) and a port, got '\(relay)'")
    }
    options.dataDirectory = DataDirectory(path: dataDirectory)
    options.advertise = advertise
    guard (tlsCertificate == nil) == (tlsKey == nil) else {
      throw ValidationError("--tls-cert and --tls-key go together")
    }
    options.tlsCertificate = tlsCertificate
    options.tlsKey = tlsKey
    let logger = Logger(label: "portico.mgmt")
    let server = try await ManagementServer.start(store: try makeStore(), options: options, logger: logger)
    try await runUntilSignalled([server], logger: logger)
  }

  private func makeStore() throws -> any ResourceStore {
    if store.hasPrefix("sqlite:") { return try SQLiteStore(path: String(store.dropFirst("sqlite:".count))) }
    if store.hasPrefix("etcd://") { return try EtcdStore(url: store) }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: store, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      throw ValidationError(
        "--store needs sqlite:PATH, etcd://HOST:PORT or an existing folder; got '\(store)'")
    }
    return FolderStore(directory: store)
  }
}

/// `HOST:PORT[,HOST:PORT...]`: the plane's replicas.
func planeAddresses(_ text: String) throws -> [(host: String, port: Int)] {
  try text.split(separator: ",").map { try hostAndPort(String($0), flag: "--mgmt") }
}

func hostAndPort(_ text: String, flag: String) throws -> (String, Int) {
  guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
    (0...65535).contains(port)
  else {
    throw ValidationError("\(flag) needs ADDRESS:PORT, got '\(text)'")
  }
  return (String(text[..<colon]), port)
}

/// Flags of a gateway configured by a management plane instead of a folder.
struct ManagedGatewayFlags: ParsableArguments {
  @Option(help: "The management plane's relay, as HOST:PORT[,HOST:PORT...] (instead of --config).")
  var mgmt: String?

  @Option(
    name: .customLong("relay-ca"), help: "The plane's relay CA certificate (its data folder's relay-ca.pem).")
  var relayCA: String?

  @Option(name: .customLong("token-file"), help: "The plane's bootstrap token, for the first contact.")
  var tokenFile: String?

  @Option(
    name: .customLong("cache-dir"), help: "Where the gateway keeps its last snapshot and relay certificate.")
  var cacheDirectory: String?
}

/// Hands the plane's snapshots to the gateway's reload path.
struct GatewaySnapshotApplier: SnapshotApplier {
  let gateway: Gateway

  func apply(_ snapshot: ResourceSnapshot, first: Bool) async -> [String]? {
    if case .rejected(let errors) = await gateway.apply(snapshot, rejectingNewErrors: !first) {
      return errors
    }
    return nil
  }
}

/// Runs the relay agent once the gateway serves.
struct GatewayAgentService: Service {
  let agent: GatewayAgent
  let gateway: Gateway

  func run() async throws {
    while !gateway.isReady {
      try await Task.sleep(for: .milliseconds(20))
    }
    await cancelWhenGracefulShutdown { await agent.run() }
  }
}

struct AgentCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "agent",
    abstract:
      "Report a cluster's Services and Endpoints (a folder of their manifests) to the management plane.")

  @Option(help: "The management plane's relay, as HOST:PORT (its replicas: HOST:PORT,HOST:PORT...).")
  var mgmt: String

  @Option(
    name: .customLong("relay-ca"), help: "The plane's relay CA certificate (its data folder's relay-ca.pem).")
  var relayCA: String

  @Option(name: .customLong("token-file"), help: "The plane's bootstrap token, for the first contact.")
  var tokenFile: String

  @Option(help: "The cluster's name.")
  var cluster: String

  @Option(help: "The cluster's locality, as REGION or REGION/ZONE: endpoints without locality labels get it.")
  var locality: String?

  @Option(help: "The folder of Service and Endpoints manifests (watched for changes).")
  var watch: String

  @Option(name: .customLong("cache-dir"), help: "Where the agent keeps its relay certificate.")
  var cacheDirectory = "portico-agent"

  @Option(
    name: .customLong("gateway-admin"),
    help:
      "The cluster's gateway's admin listener, as HOST:PORT: the agent reports endpoint health as it sees it."
  )
  var gatewayAdmin: String?

  func run() async throws {
    let planes = try planeAddresses(mgmt)
    var parsedLocality: StaticDestinationSpec.Locality?
    if let locality {
      guard let parsed = StaticDestinationSpec.Locality(parsing: locality) else {
        throw ValidationError("--locality needs REGION or REGION/ZONE, got '\(locality)'")
      }
      parsedLocality = parsed
    }
    let link = RelayLink(
      planes: planes, relayCA: try String(contentsOfFile: relayCA, encoding: .utf8),
      identity: GatewayIdentity(name: "agent", namespace: "portico-system", cluster: cluster),
      tokenFile: tokenFile,
      cache: SnapshotCache(directory: cacheDirectory))
    var options = ClusterAgent.Options(
      link: link, cluster: cluster, locality: parsedLocality, directory: watch)
    options.gatewayAdmin = gatewayAdmin
    let agent = ClusterAgent(options: options, logger: Logger(label: "portico.agent"))
    try await runUntilSignalled([ClusterAgentService(agent: agent)], logger: Logger(label: "portico.agent"))
  }
}

struct ClusterAgentService: Service {
  let agent: ClusterAgent

  func run() async throws { await cancelWhenGracefulShutdown { await agent.run() } }
}
