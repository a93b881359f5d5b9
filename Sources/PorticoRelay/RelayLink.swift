import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Synchronization

/// How one party (a gateway, a cluster's agent) reaches the plane's relay: it enrols with the bootstrap
/// token when it holds no client certificate yet, and then talks over mutual TLS.
public final class RelayLink: Sendable {
  /// The plane's relay addresses (its replicas); the link uses one at a time and moves to the next when
  /// told the current one failed.
  public let planes: [(host: String, port: Int)]
  private let current = Mutex(0)
  /// PEM of the relay CA the plane's certificate must chain to.
  public let relayCA: String
  public let identity: GatewayIdentity
  /// Where the bootstrap token is read from, at each enrolment (so that a rotated token is picked up).
  public let tokenFile: String
  /// Where the client certificate is kept.
  public let cache: SnapshotCache

  public convenience init(
    host: String, port: Int, relayCA: String, identity: GatewayIdentity, tokenFile: String,
    cache: SnapshotCache
  ) {
    self.init(
      planes: [(host, port)], relayCA: relayCA, identity: identity, tokenFile: tokenFile, cache: cache)
  }

  public init(
    planes: [(host: String, port: Int)], relayCA: String, identity: GatewayIdentity, tokenFile: String,
    cache: SnapshotCache
  ) {
    precondition(!planes.isEmpty, "a relay link needs a plane address")
    self.planes = planes
    self.relayCA = relayCA
    self.identity = identity
    self.tokenFile = tokenFile
    self.cache = cache
  }

  /// The client certificate, enrolling for one first when there is none.
  func credentials(logger: Logger) async throws -> RelayCredentials {
    if let credentials = cache.credentials() { return credentials }
    let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(
      in: .whitespacesAndNewlines)
    let enrollment = try RelayCredentials.enrollment(for: identity)
    let request = Portico_Relay_V1_EnrollRequest.with {
      $0.bootstrapToken = token
      $0.identity = identity.message
      $0.csrDer = Data((try? enrollment.signingRequestDER(for: identity)) ?? [])
    }
    let response = try await withClient(presenting: enrollment) { relay in
      try await relay.enroll(request, options: Self.callOptions)
    }
    let issued = try RelayCredentials(
      certificate: .init(derEncoded: Array(response.certificateDer)), key: enrollment.key)
    try cache.save(issued)
    logger.info("relay: enrolled", metadata: ["identity": "\(identity.displayName)"])
    return issued
  }

  /// The address in use, as HOST:PORT.
  public var address: String {
    let plane = planes[current.withLock { $0 } % planes.count]
    return "\(plane.host):\(plane.port)"
  }

  /// Moves to the next replica's address.
  func rotate() { current.withLock { $0 = ($0 + 1) % planes.count } }

  /// Drops the client certificate (the plane refused it), so that the next attempt enrols afresh.
  func forgetCredentials() { cache.forgetCredentials() }

  static let callOptions: CallOptions = {
    var options = CallOptions.defaults
    options.waitForReady = false
    return options
  }()

  func withClient<Result: Sendable>(
    presenting credentials: RelayCredentials,
    _ body: @Sendable (Portico_Relay_V1_Relay.Client<HTTP2ClientTransport.Posix>) async throws -> Result
  ) async throws -> Result {
    let (host, port) = planes[current.withLock { $0 } % planes.count]
    let target: any ResolvableTarget =
      IPv4Address(host) != nil ? .ipv4(address: host, port: port) : .dns(host: host, port: port)
    let transport = try HTTP2ClientTransport.Posix(
      target: target,
      transportSecurity: .mTLS(
        certificateChain: [.bytes(Array(credentials.certificatePEM.utf8), format: .pem)],
        privateKey: .bytes(Array(credentials.keyPEM.utf8), format: .pem)
      ) { [relayCA] tls in
        tls.trustRoots = .certificates([.bytes(Array(relayCA.utf8), format: .pem)])
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

/// Capped, jittered exponential back-off between attempts to reach the plane.
struct Backoff {
  let initial: Duration
  let maximum: Duration
  private(set) var current: Duration

  init(initial: Duration, maximum: Duration) {
    self.initial = initial
    self.maximum = maximum
    current = initial
  }

  mutating func reset() { current = initial }

  /// Waits for the current delay (jittered down by up to half), then doubles it up to the cap.
  mutating func wait() async {
    try? await Task.sleep(for: current * Double.random(in: 0.5...1.0))
    current = min(current * 2, maximum)
  }
}
