import Crypto
import Foundation
import X509

/// The mesh CA: the root gateways of every cluster trust on east-west connections, and nothing else does.
/// It is apart from the relay CA, so that a relay certificate opens no east-west listener and a mesh
/// certificate no relay.
public struct MeshAuthority: Sendable {
  public let certificate: Certificate
  let key: P256.Signing.PrivateKey

  public static func make() throws -> MeshAuthority {
    let (certificate, key) = try RootCertificate.make(commonName: "Portico mesh CA")
    return MeshAuthority(certificate: certificate, key: key)
  }

  public init(certificatePEM: String, keyPEM: String) throws {
    certificate = try Certificate(pemEncoded: certificatePEM)
    key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
  }

  init(certificate: Certificate, key: P256.Signing.PrivateKey) {
    self.certificate = certificate
    self.key = key
  }

  public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
  public var keyPEM: String { key.pemRepresentation }

  /// A gateway's mesh identity: a key and a certificate for both ends of an east-west connection.
  public func identity(for gateway: GatewayIdentity) throws -> (certificatePEM: String, keyPEM: String) {
    let key = P256.Signing.PrivateKey()
    let now = Date()
    let certificate = try Certificate(
      version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
      notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(365 * 86_400),
      issuer: self.certificate.subject,
      subject: try DistinguishedName {
        OrganizationName("portico-mesh")
        OrganizationalUnitName(gateway.cluster)
        CommonName("\(gateway.namespace)/\(gateway.name)")
      },
      signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true))
        try ExtendedKeyUsage([.serverAuth, .clientAuth])
      },
      issuerPrivateKey: .init(self.key))
    return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
  }

  /// The mesh identity as the Secret manifest gateways find it under (`EastWestGateway.identitySecret`).
  public func identityManifest(for gateway: GatewayIdentity) throws -> String {
    let (certificate, key) = try identity(for: gateway)
    let object: [String: Any] = [
      "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
      "metadata": [
        "name": EastWestGateway.identitySecret(for: gateway).name,
        "namespace": EastWestGateway.identitySecret(for: gateway).namespace,
      ],
      "stringData": ["tls.crt": certificate, "tls.key": key, "ca.crt": certificatePEM],
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    return String(decoding: data, as: UTF8.self)
  }
}
