import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Synchronization

/// What a gateway does with a snapshot the plane sends.
public protocol SnapshotApplier: Sendable {
  /// Serves `snapshot`; returns nil when it is served, or why it was refused. A first snapshot (nothing served
  /// yet) serves what is valid in it; a later one is refused when it adds errors.
  func apply(_ snapshot: ResourceSnapshot, first: Bool) async -> [String]?
}

/// The gateway's end of the relay: enrols with the bootstrap token when it has no client certificate, holds
/// the stream to the plane, applies each snapshot and answers for it, caches what it applied, and reconnects
/// with capped, jittered back-off when the plane goes away. The gateway keeps serving throughout.
public final class GatewayAgent: Sendable {
  public struct Options: Sendable {
    public var host: String
    public var port: Int
    /// PEM of the relay CA the plane's certificate must chain to.
    public var relayCA: String
    public var identity: GatewayIdentity
    /// Where the bootstrap token is read from, at each enrolment (so that a rotated token is picked up).
    public var tokenFile: String
    public var cache: SnapshotCache
    public var initialBackoff: Duration = .milliseconds(200)
    public var maximumBackoff: Duration = .seconds(10)

    public init(
      host: String, port: Int, relayCA: String, identity: GatewayIdentity,
      tokenFile: String,
      cache: SnapshotCache
    ) {
      self.host = host
      self.port = port
      self.relayCA = relayCA
      self.identity = identity
      self.tokenFile = tokenFile
      self.cache = cache
    }
  }

  /// Where the agent stands, for logs and the admin endpoint.
  public struct State: Sendable, Equatable {
    public var connected = false
    /// The plane generation served (0: none yet).
    public var generation: Int64 = 0
    public var lastError: String?
  }

  public let options: Options
  private let applier: any SnapshotApplier
  private let logger: Logger
  private let served: Mutex<ShippedSnapshot>
  private let stateBox = Mutex(State())

  public init(options: Options, applier: any SnapshotApplier, logger: Logger) {
    self.options = options
    self.applier = applier
    self.logger = logger
    served = Mutex(options.cache.snapshot() ?? ShippedSnapshot())
    stateBox.withLock { $0.generation = served.withLock { $0.generation } }
  }

  public var state: State { stateBox.withLock { $0 } }

  /// The cached snapshot the gateway starts with (empty when there is none).
  public var cachedSnapshot: ResourceSnapshot { served.withLock { $0 }.load() }

  /// Runs until cancelled.
  public func run() async {
    var backoff = options.initialBackoff
    while !Task.isCancelled {
      do {
        let credentials = try await credentials()
        try await connect(with: credentials)
        record(error: "the plane closed the stream")
      } catch let error as RPCError where error.code == .unauthenticated || error.code == .permissionDenied {
        // A certificate the plane no longer knows is dropped, so that the next attempt enrols afresh.
        options.cache.forgetCredentials()
        record(error: "refused by the plane: \(error.message)")
      } catch is CancellationError {
        break
      } catch {
        record(error: "\(error)")
      }
      // A stream that got as far as a snapshot starts the back-off over.
      if stateBox.withLock({ $0.connected }) { backoff = options.initialBackoff }
      stateBox.withLock { $0.connected = false }
      let jittered = backoff * Double.random(in: 0.5...1.0)
      try? await Task.sleep(for: jittered)
      backoff = min(backoff * 2, options.maximumBackoff)
    }
  }

  private func record(error: String) {
    stateBox.withLock { $0.lastError = error }
    logger.warning("relay: \(error)", metadata: ["plane": "\(options.host):\(options.port)"])
  }

  // MARK: - Enrolment

  private func credentials() async throws -> RelayCredentials {
    if let credentials = options.cache.credentials() { return credentials }
    let token = try String(contentsOfFile: options.tokenFile, encoding: .utf8).trimmingCharacters(
      in: .whitespacesAndNewlines)
    let enrollment = try RelayCredentials.enrollment(for: options.identity)
    let request = Portico_Relay_V1_EnrollRequest.with {
      $0.bootstrapToken = token
      $0.identity = options.identity.message
      $0.csrDer = Data((try? enrollment.signingRequestDER(for: options.identity)) ?? [])
    }
    let response = try await withClient(presenting: enrollment) { relay in
      try await relay.enroll(request, options: Self.callOptions)
    }
    let issued = try RelayCredentials(
      certificate: .init(derEncoded: Array(response.certificateDer)), key: enrollment.key)
    try options.cache.save(issued)
    logger.info("relay: enrolled", metadata: ["gateway": "\(options.identity.displayName)"])
    return issued
  }

  // MARK: - The stream

  private func connect(with credentials: RelayCredentials) async throws {
    let (answers, answer) = AsyncStream.makeStream(of: Portico_Relay_V1_GatewayMessage.self)
    let hello = Portico_Relay_V1_GatewayMessage.with { message in
      let snapshot = served.withLock { $0 }
      message.hello = .with {
        $0.identity = options.identity.message
        $0.generation = snapshot.generation
        $0.serving = snapshot.digests.sorted { $0.key < $1.key }.map { key, digest in
          .with {
            $0.key = key
            $0.digest = digest
          }
        }
      }
    }
    try await withClient(presenting: credentials) { relay in
      try await relay.connect(
        requestProducer: { writer in
          try await writer.write(hello)
          for await message in answers { try await writer.write(message) }
        },
        onResponse: { response in
          defer { answer.finish() }
          for try await message in response.messages {
            guard case .snapshot(let change)? = message.kind else { continue }
            self.stateBox.withLock {
              $0.connected = true
              $0.lastError = nil
            }
            answer.yield(await self.apply(change))
          }
        })
    }
  }

  private func apply(_ change: Portico_Relay_V1_Snapshot) async -> Portico_Relay_V1_GatewayMessage {
    let current = served.withLock { $0 }
    let next = current.applying(change)
    let refusal = await applier.apply(
      next.load(), first: current.generation == 0 && current.manifests.isEmpty)
    if let refusal {
      logger.error(
        "relay: refused generation \(change.generation)",
        metadata: ["errors": "\(refusal.joined(separator: "; "))"])
      return .with {
        $0.nack = .with {
          $0.generation = change.generation
          $0.errors = refusal
        }
      }
    }
    served.withLock { $0 = next }
    stateBox.withLock { $0.generation = next.generation }
    do {
      try options.cache.save(next)
    } catch {
      logger.warning("relay: cannot write the snapshot cache: \(error)")
    }
    logger.info(
      "relay: applied generation \(next.generation)", metadata: ["manifests": "\(next.manifests.count)"])
    return .with { $0.ack = .with { $0.generation = change.generation } }
  }

  // MARK: - Transport

  static let callOptions: CallOptions = {
    var options = CallOptions.defaults
    options.waitForReady = false
    return options
  }()

  private func withClient<Result: Sendable>(
    presenting credentials: RelayCredentials,
    _ body: @Sendable (Portico_Relay_V1_Relay.Client<HTTP2ClientTransport.Posix>) async throws -> Result
  ) async throws -> Result {
    let target: any ResolvableTarget =
      IPv4Address(options.host) != nil
      ? .ipv4(address: options.host, port: options.port) : .dns(host: options.host, port: options.port)
    let transport = try HTTP2ClientTransport.Posix(
      target: target,
      transportSecurity: .mTLS(
        certificateChain: [.bytes(Array(credentials.certificatePEM.utf8), format: .pem)],
        privateKey: .bytes(Array(credentials.keyPEM.utf8), format: .pem)
      ) { tls in
        tls.trustRoots = .certificates([.bytes(Array(options.relayCA.utf8), format: .pem)])
      },
      config: .defaults { config in
        // A plane that vanishes without closing the connection is noticed within seconds.
        config.connection.keepalive = .init(time: .seconds(5), timeout: .seconds(5), allowWithoutCalls: true)
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
      })
    return try await withGRPCClient(transport: transport) { client in
      try await body(Portico_Relay_V1_Relay.Client(wrapping: client))
    }
  }
}
