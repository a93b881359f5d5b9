import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOSSL
import X509

/// The relay's gRPC listener. One port serves both kinds of contact: a gateway enrolling presents a
/// self-signed certificate (and the bootstrap token), an enrolled one the certificate the plane issued it.
/// Any other certificate fails the handshake; each method then checks which of the two it was given.
public final class RelayServer: Sendable {
  private let server: GRPCServer<HTTP2ServerTransport.Posix>
  private let transport: HTTP2ServerTransport.Posix

  public init(
    host: String, port: Int, plane: ManagementPlane, authority: RelayAuthority, credentials: RelayCredentials,
    bootstrapToken: String, book: EnrollmentBook
  ) {
    transport = HTTP2ServerTransport.Posix(
      address: .ipv4(host: host, port: port),
      transportSecurity: .mTLS(
        certificateChain: [.bytes(Array(credentials.certificatePEM.utf8), format: .pem)],
        privateKey: .bytes(Array(credentials.keyPEM.utf8), format: .pem)
      ) { tls in
        tls.clientCertificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates([.bytes(Array(authority.certificatePEM.utf8), format: .pem)])
        tls.customVerificationCallback = { certificates, promise in
          promise.succeed(
            Self.verify(certificates, authority: authority) ? .certificateVerified(.init(nil)) : .failed)
        }
      },
      config: .defaults { config in
        config.connection.keepalive = .init(
          time: .seconds(10), timeout: .seconds(5),
          clientBehavior: .init(minPingIntervalWithoutCalls: .seconds(4), allowWithoutCalls: true))
      })
    server = GRPCServer(
      transport: transport,
      services: [RelayService(plane: plane, authority: authority, bootstrapToken: bootstrapToken, book: book)]
    )
  }

  /// Serves until cancelled or stopped.
  public func serve() async throws { try await server.serve() }

  public func stop() { server.beginGracefulShutdown() }

  /// The bound port, once listening.
  public var port: Int? {
    get async {
      guard let address = try? await transport.listeningAddress else { return nil }
      return address.ipv4?.port ?? address.ipv6?.port
    }
  }

  /// A certificate the relay CA issued, or a self-signed one (only good for enrolling).
  static func verify(_ certificates: [NIOSSLCertificate], authority: RelayAuthority) -> Bool {
    guard let leaf = certificates.first, let bytes = try? leaf.toDERBytes(),
      let certificate = try? Certificate(derEncoded: bytes)
    else { return false }
    if authority.issued(certificate) { return true }
    return certificate.issuer == certificate.subject
      && certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
      && GatewayCertificateName.gateway(in: certificate) != nil
  }
}
