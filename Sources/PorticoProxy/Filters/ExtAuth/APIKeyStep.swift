import Crypto
import PorticoTranslate

/// `apiKeyAuth`: the key in the request's header is hashed (SHA-256) and looked up by its digest's first
/// eight bytes; the whole digest is then compared in constant time. Keys are never scanned one by one, and
/// never kept in the clear: the translator digests them as it reads their Secrets.
struct APIKeyStep: ImmediateAuthStep {
  private let headerName: String
  private let keys: [ExtAuthConfig.APIKey]
  /// Positions in `keys`, by the first eight bytes of the digest.
  private let index: [UInt64: [Int]]
  private let headers: [ExtAuthConfig.APIKeyCheck.MetadataHeader]
  private let refusal: AuthOutcome

  init(_ check: ExtAuthConfig.APIKeyCheck) {
    headerName = check.headerName
    refusal = .denied(status: 401, challenge: "API-Key header=\"\(check.headerName)\"")
    keys = check.keys
    headers = check.headers
    var index: [UInt64: [Int]] = [:]
    for (position, key) in check.keys.enumerated() {
      index[Self.bucket(key.digest), default: []].append(position)
    }
    self.index = index
  }

  private static func bucket(_ digest: some Collection<UInt8>) -> UInt64 {
    digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
  }

  var replacedHeaders: [String] { headers.map(\.header) }

  func check(_ call: FilterCall) -> AuthOutcome {
    guard let presented = call.request.head.firstValue(named: headerName), !presented.isEmpty else {
      return refusal
    }
    var hasher = SHA256()
    var text = presented
    text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    // Read in place: copying the digest into an array grows it a few bytes at a time.
    let found = hasher.finalize().withUnsafeBytes { digest in
      index[Self.bucket(digest)]?.first { constantTimeEqual(keys[$0].digest, digest) }
    }
    guard let found else { return refusal }
    let key = keys[found]
    var added: [AuthHeader] = []
    for header in headers {
      guard let value = key.metadata[header.field] else {
        // The key is good, but its Secret lacks what this API requires of its callers.
        if header.required { return .denied(status: 403, challenge: nil) }
        continue
      }
      added.append(AuthHeader(name: header.header, value: value))
    }
    return .allowed(identity: key.identity, headers: added)
  }
}
