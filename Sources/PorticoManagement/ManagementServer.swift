import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A running management plane: the store loaded, the REST API and the relay listening.
public final class ManagementServer: Service, Sendable {
  public struct Options: Sendable {
    public var apiHost = "127.0.0.1"
    public var apiPort = 9900
    public var relayHost = "127.0.0.1"
    public var relayPort = 9977
    public var dataDirectory = DataDirectory(path: "portico-mgmt")
    /// Names and addresses gateways dial the relay by, besides localhost and 127.0.0.1.
    public var advertise: [String] = []
    /// PEM files for the API's TLS; plain HTTP without them.
    public var tlsCertificate: String?
    public var tlsKey: String?

    public init() {}
  }

  public let plane: ManagementPlane
  private let api: APIServer
  private let relay: RelayServer
  private let group: MultiThreadedEventLoopGroup
  private let logger: Logger

  private init(
    plane: ManagementPlane, api: APIServer, relay: RelayServer, group: MultiThreadedEventLoopGroup,
    logger: Logger
  ) {
    self.plane = plane
    self.api = api
    self.relay = relay
    self.group = group
    self.logger = logger
  }

  /// Loads the store and binds both listeners.
  public static func start(store: any ResourceStore, options: Options, logger: Logger) async throws
    -> ManagementServer
  {
    if let etcd = store as? EtcdStore {
      try FileManager.default.createDirectory(
        atPath: options.dataDirectory.path, withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      try await options.dataDirectory.share(through: etcd.client)
    }
    let (adminToken, bootstrapToken, authority, mesh) = try options.dataDirectory.prepare()
    let plane = ManagementPlane(
      store: store, logger: logger, mesh: mesh, registryFile: options.dataDirectory.registryFile)
    try await plane.start()
    let metrics = PlaneMetrics()
    await plane.use(metrics)
    let book: EnrollmentBook
    if let etcd = store as? EtcdStore {
      // Replicas share the enrolled gateways, and each shows every replica's gateways.
      book = EnrollmentBook(etcd: etcd.client)
      let records = SharedGatewayRecords(client: etcd.client)
      records.start()
      await plane.share(through: records)
    } else {
      book = EnrollmentBook(file: options.dataDirectory.enrollmentFile)
    }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var tls: NIOSSLContext?
    if let certificate = options.tlsCertificate, let key = options.tlsKey {
      tls = try NIOSSLContext(
        configuration: .makeServerConfiguration(
          certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
          privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
    }
    let api = try await APIServer.bind(
      host: options.apiHost, port: options.apiPort, tls: tls,
      router: APIRouter(plane: plane, adminToken: adminToken, book: book, metrics: metrics), group: group)
    let relay = RelayServer(
      host: options.relayHost, port: options.relayPort, plane: plane, authority: authority,
      credentials: try authority.serverCredentials(names: options.advertise), bootstrapToken: bootstrapToken,
      book: book)
    return ManagementServer(plane: plane, api: api, relay: relay, group: group, logger: logger)
  }

  public var apiPort: Int? { api.port }
  public var relayPort: Int? { get async { await relay.port } }

  /// Serves until cancelled or shut down gracefully.
  public func run() async throws {
    try await withGracefulShutdownHandler {
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await self.api.serve() }
        group.addTask { try await self.relay.serve() }
        group.addTask {
          var relayPort: Int?
          for _ in 0..<1000 where relayPort == nil {
            try await Task.sleep(for: .milliseconds(10))
            relayPort = await self.relayPort
          }
          guard relayPort != nil else { throw RelayTrustError("the relay did not start listening") }
          self.logger.info(
            "management plane ready", metadata: ["api": "\(self.apiPort ?? 0)", "relay": "\(relayPort ?? 0)"])
        }
        try await group.waitForAll()
      }
    } onGracefulShutdown: {
      self.stop()
    }
  }

  public func stop() {
    relay.stop()
    Task {
      await api.close()
      await plane.stop()
    }
  }
}
