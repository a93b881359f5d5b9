import Crypto
import Foundation
import SwiftASN1
import X509

/// The relay's own certificate authority: it signs the plane's relay certificate and every gateway's client
/// certificate, and nothing else (workload and mesh certificates have roots of their own).
public struct RelayAuthority: Sendable {
  public let certificate: Certificate
  let key: P256.Signing.PrivateKey

  /// A new authority, valid for ten years.
  public static func make() throws -> RelayAuthority {
    let (certificate, key) = try RootCertificate.make(commonName: "Portico relay CA")
    return RelayAuthority(certificate: certificate, key: key)
  }

  public init(certificatePEM: String, keyPEM: String) throws {
    self.init(
      certificate: try Certificate(pemEncoded: certificatePEM),
      key: try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
  }

  init(certificate: Certificate, key: P256.Signing.PrivateKey) {
    self.certificate = certificate
    self.key = key
  }

  public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
  public var keyPEM: String { key.pemRepresentation }

  /// The plane's relay server certificate, naming localhost, 127.0.0.1 and every advertised name or address.
  public func serverCredentials(names: [String]) throws -> RelayCredentials {
    let key = P256.Signing.PrivateKey()
    var alternatives: [GeneralName] = []
    for name in Set(["localhost", "127.0.0.1"] + names).sorted() {
      if let address = IPv4Address(name) {
        alternatives.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes))))
      } else {
        alternatives.append(.dnsName(name))
      }
    }
    let certificate = try issue(
      subject: try DistinguishedName { CommonName("Portico relay") }, publicKey: .init(key.publicKey),
      validFor: 365 * 86_400,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true))
        try ExtendedKeyUsage([.serverAuth])
        SubjectAlternativeNames(alternatives)
      })
    return RelayCredentials(certificate: certificate, key: key)
  }

  /// Signs a gateway's request for its identity; the certificate names the identity, never what the request
  /// asked for.
  public func issueClientCertificate(for identity: GatewayIdentity, requestDER: [UInt8]) throws -> Certificate
  {
    let request = try CertificateSigningRequest(derEncoded: requestDER)
    guard request.publicKey.isValidSignature(request.signature, for: request) else {
      throw RelayTrustError("the certificate signing request's signature does not verify")
    }
    return try issue(
      subject: try GatewayCertificateName.distinguishedName(for: identity), publicKey: request.publicKey,
      validFor: 365 * 86_400,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true))
        try ExtendedKeyUsage([.clientAuth])
      })
  }

  /// Whether `certificate` was issued by this authority and is valid now.
  public func issued(_ certificate: Certificate, at now: Date = Date()) -> Bool {
    certificate.issuer == self.certificate.subject
      && self.certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
      && certificate.notValidBefore <= now && now <= certificate.notValidAfter
  }

  private func issue(
    subject: DistinguishedName, publicKey: Certificate.PublicKey, validFor seconds: TimeInterval,
    extensions: Certificate.Extensions
  ) throws -> Certificate {
    let now = Date()
    return try Certificate(
      version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: now.addingTimeInterval(-300),
      notValidAfter: now.addingTimeInterval(seconds), issuer: certificate.subject, subject: subject,
      signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: .init(key))
  }
}

/// A certificate and its key.
public struct RelayCredentials: Sendable {
  public let certificate: Certificate
  let key: P256.Signing.PrivateKey

  public init(certificate: Certificate, key: P256.Signing.PrivateKey) {
    self.certificate = certificate
    self.key = key
  }

  public init(certificatePEM: String, keyPEM: String) throws {
    self.init(
      certificate: try Certificate(pemEncoded: certificatePEM),
      key: try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
  }

  public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
  public var keyPEM: String { key.pemRepresentation }

  /// A key of a gateway's own, with a self-signed certificate for it: what the gateway presents on its first
  /// contact, to prove it holds the key its signing request names.
  public static func enrollment(for identity: GatewayIdentity) throws -> RelayCredentials {
    let key = P256.Signing.PrivateKey()
    let name = try GatewayCertificateName.distinguishedName(for: identity)
    let now = Date()
    let certificate = try Certificate(
      version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
      notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(3_600),
      issuer: name,
      subject: name, signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        try ExtendedKeyUsage([.clientAuth])
      },
      issuerPrivateKey: .init(key))
    return RelayCredentials(certificate: certificate, key: key)
  }

  /// A signing request for this key, DER-encoded.
  public func signingRequestDER(for identity: GatewayIdentity) throws -> [UInt8] {
    let request = try CertificateSigningRequest(
      version: .v1, subject: try GatewayCertificateName.distinguishedName(for: identity),
      privateKey: .init(key), attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
    var serializer = DER.Serializer()
    try serializer.serialize(request)
    return serializer.serializedBytes
  }
}

/// How a gateway's identity is written into its certificate's subject, and read back.
public enum GatewayCertificateName {
  static func distinguishedName(for identity: GatewayIdentity) throws -> DistinguishedName {
    try DistinguishedName {
      OrganizationName("portico-gateway")
      OrganizationalUnitName(identity.cluster)
      LocalityName(identity.namespace)
      CommonName(identity.name)
    }
  }

  /// The gateway a certificate names: (cluster, namespace, name), or nil for another kind of certificate.
  public static func gateway(in certificate: Certificate) -> (
    cluster: String, namespace: String, name: String
  )? {
    var organization: String?
    var cluster: String?
    var namespace: String?
    var name: String?
    for relative in certificate.subject {
      for attribute in relative {
        let value = String(describing: attribute.value)
        switch attribute.type {
        case .RDNAttributeType.organizationName: organization = value
        case .RDNAttributeType.organizationalUnitName: cluster = value
        case .RDNAttributeType.localityName: namespace = value
        case .RDNAttributeType.commonName: name = value
        default: break
        }
      }
    }
    guard organization == "portico-gateway", let cluster, let namespace, let name else { return nil }
    return (cluster, namespace, name)
  }
}

public struct RelayTrustError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A dotted IPv4 address's four bytes.
struct IPv4Address {
  let bytes: [UInt8]

  init?(_ text: String) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
      guard let byte = UInt8(part) else { return nil }
      bytes.append(byte)
    }
    self.bytes = bytes
  }
}
