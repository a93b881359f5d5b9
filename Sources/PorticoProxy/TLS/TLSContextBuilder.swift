import Foundation
import NIOSSL
import PorticoAPI
import PorticoTranslate

/// Builds the SSL context of a TLS server-name chain from its resolved material. Without parameters the gateway
/// offers TLS 1.2 and 1.3 only, with forward-secret AEAD cipher suites only, and negotiates `h2` or
/// `http/1.1` by ALPN.
enum TLSContextBuilder {
  /// TLS 1.2 suites offered unless `cipherSuites` says otherwise: ECDHE key exchange with AES-GCM or
  /// ChaCha20-Poly1305 (no CBC suites, which are open to padding-oracle attacks such as Lucky13). TLS 1.3
  /// suites are all AEAD and fixed by BoringSSL.
  static let defaultCipherSuites = [
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
  ]

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  static func context(for tls: TLSTermination, configDirectory: String) throws -> NIOSSLContext {
    let (chainPEM, keyPEM, caPEM) = try material(tls.material, configDirectory: configDirectory)
    let certificates: [NIOSSLCertificate]
    do {
      certificates = try NIOSSLCertificate.fromPEMBytes(chainPEM)
    } catch {
      throw Failure(description: "\(source(tls)): the certificate chain is not valid PEM")
    }
    guard !certificates.isEmpty else {
      throw Failure(description: "\(source(tls)): the certificate chain holds no certificate")
    }
    let key: NIOSSLPrivateKey
    do {
      key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
    } catch {
      throw Failure(description: "\(source(tls)): the private key is not valid PEM")
    }
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
    if tls.mode == .mutual, let caPEM {
      let roots: [NIOSSLCertificate]
      do {
        roots = try NIOSSLCertificate.fromPEMBytes(caPEM)
      } catch {
        throw Failure(description: "\(source(tls)): the CA certificates are not valid PEM")
      }
      configuration.trustRoots = .certificates(roots)
      configuration.certificateVerification = .noHostnameVerification
    }
    configuration.minimumTLSVersion = version(tls.minimumVersion) ?? .tlsv12
    configuration.maximumTLSVersion = version(tls.maximumVersion)
    configuration.cipherSuites = (tls.cipherSuites.isEmpty ? defaultCipherSuites : tls.cipherSuites)
      .joined(separator: ":")
    configuration.applicationProtocols = ["h2", "http/1.1"]
    do {
      return try NIOSSLContext(configuration: configuration)
    } catch {
      throw Failure(description: "\(source(tls)): TLS settings rejected: \(error)")
    }
  }

  /// Certificate chain, key and CA bytes, from the Secret or read from the files.
  private static func material(_ material: TLSTermination.Material, configDirectory: String) throws -> (
    [UInt8], [UInt8], [UInt8]?
  ) {
    switch material {
    case .secret(_, let secret):
      return (
        secret.value(for: "tls.crt") ?? [], secret.value(for: "tls.key") ?? [], secret.value(for: "ca.crt")
      )
    case .files(let chain, let key, let rootCA):
      return (
        try read(chain, configDirectory), try read(key, configDirectory),
        try rootCA.map { try read($0, configDirectory) }
      )
    }
  }

  /// Files named by `sslFiles`, resolved against the configuration folder when relative.
  static func path(_ path: String, configDirectory: String) -> String {
    path.hasPrefix("/") ? path : URL(fileURLWithPath: configDirectory).appendingPathComponent(path).path
  }

  private static func read(_ file: String, _ configDirectory: String) throws -> [UInt8] {
    let resolved = path(file, configDirectory: configDirectory)
    guard let data = FileManager.default.contents(atPath: resolved) else {
      throw Failure(description: "cannot read \(resolved)")
    }
    return Array(data)
  }

  private static func source(_ tls: TLSTermination) -> String {
    switch tls.material {
    case .secret(let id, _): "secret \(id.qualifiedName)"
    case .files(let chain, _, _): "sslFiles \(chain)"
    }
  }

  private static func version(_ version: SSLConfig.ProtocolVersion?) -> TLSVersion? {
    switch version {
    case .tls10: .tlsv1
    case .tls11: .tlsv11
    case .tls12: .tlsv12
    case .tls13: .tlsv13
    case .auto, nil: nil
    }
  }
}
