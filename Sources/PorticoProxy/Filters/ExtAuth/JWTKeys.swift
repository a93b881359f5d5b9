import Crypto
import CryptoExtras
import Foundation

/// A provider's keys, built once from its JWKS, JWK or PEM, and the one check that matters: does this
/// signature, made with this algorithm, verify under a key of the set? The algorithm must be one the key's
/// type makes (an RSA key never verifies an HMAC, whatever the token says), and `alg: none` never verifies.
struct JWTKeySet: Sendable {
  struct Key: Sendable {
    let id: String?
    /// The JWK's `alg`, when it names one: then only that algorithm.
    let algorithm: String?
    let material: Material
  }

  enum Material: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case hmac(SymmetricKey)
  }

  let keys: [Key]

  /// The keys `text` holds; those that do not build are left out (validation checked the shape).
  init(_ text: String) {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("-----BEGIN") {
      keys = Self.pem(trimmed).map { [Key(id: nil, algorithm: nil, material: $0)] } ?? []
      return
    }
    guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
      keys = []
      return
    }
    let entries = (object["keys"] as? [[String: Any]]) ?? [object]
    keys = entries.compactMap(Self.jwk)
  }

  /// The keys a token may be checked with: those with its `kid`, and keys that have none (a PEM key, say),
  /// as Envoy's JWT filter does; a token without `kid`, only the key of a one-key set (with several, a
  /// token must say which).
  func candidates(for keyID: String?) -> [Key] {
    guard let keyID else { return keys.count == 1 ? keys : [] }
    return keys.filter { $0.id == nil || $0.id == keyID }
  }

  static func verify(_ signature: Data, of input: Data, algorithm: String, with key: Key) -> Bool {
    if let required = key.algorithm, required != algorithm { return false }
    switch (key.material, algorithm) {
    case (.rsa(let rsa), "RS256"): return rsaValid(rsa, signature, SHA256.hash(data: input))
    case (.rsa(let rsa), "RS384"): return rsaValid(rsa, signature, SHA384.hash(data: input))
    case (.rsa(let rsa), "RS512"): return rsaValid(rsa, signature, SHA512.hash(data: input))
    case (.p256(let ec), "ES256"):
      guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
      return ec.isValidSignature(parsed, for: SHA256.hash(data: input))
    case (.p384(let ec), "ES384"):
      guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
      return ec.isValidSignature(parsed, for: SHA384.hash(data: input))
    case (.hmac(let secret), "HS256"):
      return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
    case (.hmac(let secret), "HS384"):
      return HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
    case (.hmac(let secret), "HS512"):
      return HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
    default:
      return false
    }
  }

  private static func rsaValid(_ key: _RSA.Signing.PublicKey, _ signature: Data, _ digest: some Digest)
    -> Bool
  {
    key.isValidSignature(
      _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
  }

  private static func jwk(_ entry: [String: Any]) -> Key? {
    let id = entry["kid"] as? String
    let algorithm = entry["alg"] as? String
    let material: Material?
    switch entry["kty"] as? String {
    case "RSA":
      guard let n = (entry["n"] as? String).flatMap(Base64URL.decode),
        let e = (entry["e"] as? String).flatMap(Base64URL.decode)
      else { return nil }
      material = (try? _RSA.Signing.PublicKey(n: n, e: e)).map(Material.rsa)
    case "EC":
      guard let x = (entry["x"] as? String).flatMap(Base64URL.decode),
        let y = (entry["y"] as? String).flatMap(Base64URL.decode)
      else { return nil }
      switch entry["crv"] as? String {
      case "P-256": material = (try? P256.Signing.PublicKey(rawRepresentation: x + y)).map(Material.p256)
      case "P-384": material = (try? P384.Signing.PublicKey(rawRepresentation: x + y)).map(Material.p384)
      default: material = nil
      }
    case "oct":
      guard let secret = (entry["k"] as? String).flatMap(Base64URL.decode), !secret.isEmpty else {
        return nil
      }
      material = .hmac(SymmetricKey(data: secret))
    default:
      material = nil
    }
    return material.map { Key(id: id, algorithm: algorithm, material: $0) }
  }

  private static func pem(_ text: String) -> Material? {
    if let rsa = try? _RSA.Signing.PublicKey(pemRepresentation: text) { return .rsa(rsa) }
    if let ec = try? P256.Signing.PublicKey(pemRepresentation: text) { return .p256(ec) }
    if let ec = try? P384.Signing.PublicKey(pemRepresentation: text) { return .p384(ec) }
    return nil
  }
}

/// Base64url without padding (RFC 7515 §2), as JWTs and JWKs write bytes.
enum Base64URL {
  static func encode(_ bytes: some DataProtocol) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
  }

  /// A byte of the base64url alphabet.
  static func isAlphabet(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
      return true
    default:
      return false
    }
  }

  static func decode(_ text: some StringProtocol) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    guard !base64.contains("=") else { return nil }
    while base64.count % 4 != 0 { base64.append("=") }
    return Data(base64Encoded: base64)
  }
}
