import Crypto
import Foundation
import X509

/// A self-signed CA certificate and its key, valid for ten years: the root of the relay CA and of the mesh CA.
enum RootCertificate {
  static func make(commonName: String) throws -> (Certificate, P256.Signing.PrivateKey) {
    let key = P256.Signing.PrivateKey()
    let name = try DistinguishedName {
      OrganizationName("Portico")
      CommonName(commonName)
    }
    let now = Date()
    let certificate = try Certificate(
      version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
      notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
      issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
      },
      issuerPrivateKey: .init(key))
    return (certificate, key)
  }
}
