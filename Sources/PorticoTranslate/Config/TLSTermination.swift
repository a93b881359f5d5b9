import PorticoAPI

/// How a server-name chain terminates TLS, with its certificate material resolved: the Secret's values, or the
/// paths of PEM files the gateway reads (relative paths are relative to the configuration folder). The
/// material itself is never encoded: `/config_dump` and `portico routes -o json` show where it comes
/// from, not what it is.
public struct TLSTermination: Sendable, Encodable {
  public enum Mode: String, Sendable, Encodable {
    case simple = "SIMPLE"
    case mutual = "MUTUAL"
  }

  public enum Material: Sendable, Encodable {
    /// A `kubernetes.io/tls` Secret: `tls.crt`, `tls.key`, and `ca.crt` for client verification.
    case secret(ResourceID, SecretData)
    case files(certificateChain: String, privateKey: String, rootCA: String?)

    public func encode(to encoder: Encoder) throws {
      var container = encoder.singleValueContainer()
      switch self {
      case .secret(let id, _): try container.encode("secret \(id.qualifiedName)")
      case .files(let certificateChain, let privateKey, let rootCA):
        try container.encode(
          "files \(certificateChain), \(privateKey)" + (rootCA.map { ", CA \($0)" } ?? ""))
      }
    }
  }

  public var mode: Mode
  public var material: Material
  /// Client certificates must carry one of these subject alternative names (MUTUAL only; empty: any).
  public var verifySubjectAltNames: [String]
  public var minimumVersion: SSLConfig.ProtocolVersion?
  public var maximumVersion: SSLConfig.ProtocolVersion?
  public var cipherSuites: [String]
  /// Where the `sslConfig` is written, for errors found when the material is read.
  public var location: SourceLocation
}
