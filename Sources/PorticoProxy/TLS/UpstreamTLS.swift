import NIOSSL
import PorticoAPI

/// How the gateway speaks TLS to one upstream (a destination's `tls`): the client context, with the
/// upstream's certificate verified against `rootCa` (or the system's roots) unless `insecureSkipVerify`,
/// and the server name sent by SNI and checked against the certificate.
final class UpstreamTLS: Sendable {
  let context: NIOSSLContext
  /// Sent by SNI, and the name the certificate must carry; without it the endpoint's DNS name is used,
  /// and an endpoint given by IP address must have that address on its certificate.
  let serverName: String?

  /// `speaksHTTP2`: ALPN offers h2 (and the connection fails unless the server picks it), else http/1.1.
  init(_ tls: StaticDestinationSpec.TLS, speaksHTTP2: Bool, configDirectory: String) throws {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.minimumTLSVersion = .tlsv12
    configuration.applicationProtocols = speaksHTTP2 ? ["h2"] : ["http/1.1"]
    serverName = tls.sni
    if tls.insecureSkipVerify == true {
      configuration.certificateVerification = .none
    } else {
      // The name sent by SNI (or the endpoint's DNS name, or its IP address) must be on the certificate.
      configuration.certificateVerification = .fullVerification
      if let rootCA = tls.rootCa {
        let path = TLSContextBuilder.path(rootCA, configDirectory: configDirectory)
        do {
          configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
        } catch {
          throw TLSContextBuilder.Failure(
            description: "tls.rootCa \(path) cannot be read as PEM certificates")
        }
      }
    }
    do {
      context = try NIOSSLContext(configuration: configuration)
    } catch {
      throw TLSContextBuilder.Failure(description: "upstream TLS settings rejected: \(error)")
    }
  }

  /// Mutual TLS to another cluster's east-west gateway: the mesh identity's certificate, and only the mesh
  /// CA trusted. The gateway's certificate names the gateway, not each service, so its chain to the mesh CA
  /// is what is checked; `serverName` goes by SNI and picks the service.
  init(mesh identity: SecretData, serverName: String, speaksHTTP2: Bool) throws {
    guard let chain = identity.value(for: "tls.crt"), let key = identity.value(for: "tls.key"),
      let root = identity.value(for: "ca.crt")
    else {
      throw TLSContextBuilder.Failure(description: "the mesh identity needs tls.crt, tls.key and ca.crt")
    }
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.minimumTLSVersion = .tlsv12
    configuration.applicationProtocols = speaksHTTP2 ? ["h2"] : ["http/1.1"]
    configuration.certificateVerification = .noHostnameVerification
    do {
      configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(chain).map { .certificate($0) }
      configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
      configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(root))
      context = try NIOSSLContext(configuration: configuration)
    } catch {
      throw TLSContextBuilder.Failure(description: "the mesh identity cannot be used: \(error)")
    }
    self.serverName = serverName
  }
}
