import Foundation
import PorticoTranslate

/// `jwt`: a bearer token (RFC 7519) from where the providers look for it, its signature checked with a
/// provider's keys, then its times, issuer and audience. Providers are tried in name order; the first that
/// accepts the token decides the identity (`sub`) and the headers made from its claims. A token that passed
/// is remembered on its event loop until it expires (at most `rememberedFor`), so a client that
/// sends the same token again costs a lookup instead of a signature check.
struct JWTStep: AuthStep {
  private struct Provider {
    let config: ExtAuthConfig.JWTCheck.Provider
    let keys: JWTKeySet
    /// Changes with the provider's keys or claims rules: a remembered token passed under these only.
    let version: Int
    /// Where each loop keeps the tokens this provider accepted.
    let cacheKey: String
  }

  private let providers: [Provider]
  private let policy: ExtAuthConfig.JWTCheck.Policy
  /// How long a token is trusted without a new signature check, even when it expires later.
  private static let rememberedFor: Int64 = 300
  private static let missing = AuthOutcome.denied(status: 401, challenge: "Bearer realm=\"portico\"")
  private static let invalid = AuthOutcome.denied(
    status: 401, challenge: "Bearer realm=\"portico\", error=\"invalid_token\"")

  init(_ check: ExtAuthConfig.JWTCheck, cacheKey: String) {
    providers = check.providers.map {
      Provider(
        config: $0, keys: JWTKeySet($0.keys), version: $0.hashValue, cacheKey: cacheKey + "." + $0.name)
    }
    policy = check.policy
  }

  var replacedHeaders: [String] {
    providers.flatMap { $0.config.claimsToHeaders.filter { !$0.append }.map(\.header) }
  }

  func check(_ call: FilterCall) -> AuthOutcome {
    let now = Int64(Date().timeIntervalSince1970)
    var sawToken = false
    for provider in providers {
      guard let (token, source) = Self.token(in: call, from: provider.config.sources) else { continue }
      sawToken = true
      // Looked up by the request's own bytes (a substring of its head), so a lookup copies nothing.
      let remembered = call.loopState(provider.cacheKey) {
        RecentPasses<Substring, AcceptedToken>(lifetime: Self.rememberedFor)
      }
      let accepted: AcceptedToken
      if let known = remembered.value(for: token, at: now), known.isValid(at: now, version: provider.version)
      {
        accepted = known
      } else {
        guard let verified = Self.verify(token, with: provider, at: now) else { continue }
        // Remembered under this provider's version: after a key rotates, its tokens are checked afresh. The
        // key is the token's own copy, not a view of the request's head.
        remembered.insert(verified, for: Substring(String(token)), at: now)
        accepted = verified
      }
      var removing: [String] = []
      if !provider.config.keepToken, case .header(let name, _) = source { removing.append(name) }
      return .allowed(identity: accepted.subject, headers: accepted.headers, removing: removing)
    }
    switch (sawToken, policy) {
    case (_, .allowMissingOrFailed), (false, .allowMissing): return .allowed(identity: nil, headers: [])
    case (false, _): return Self.missing
    case (true, _): return Self.invalid
    }
  }

  /// The first token the sources hold, and where it was.
  private static func token(in call: FilterCall, from sources: [ExtAuthConfig.JWTCheck.TokenSource]) -> (
    Substring, ExtAuthConfig.JWTCheck.TokenSource
  )? {
    for source in sources {
      switch source {
      case .header(let name, let prefix):
        guard let value = call.request.head.firstValue(named: name), let token = after(prefix, in: value)
        else {
          continue
        }
        return (token, source)
      case .query(let name):
        for pair in (call.request.query ?? "").split(separator: "&") {
          let parts = pair.split(separator: "=", maxSplits: 1)
          if parts.count == 2, parts[0] == name { return (parts[1], source) }
        }
      }
    }
    return nil
  }

  /// What follows `prefix` (its letters in any case) in `value`, when something does. Byte by byte: a
  /// token is hundreds of characters, and counting them as characters cost a third of the check.
  private static func after(_ prefix: String, in value: Substring) -> Substring? {
    func lowered(_ byte: UInt8) -> UInt8 {
      (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
    let bytes = value.utf8
    var index = bytes.startIndex
    for expected in prefix.utf8 {
      guard index < bytes.endIndex, lowered(bytes[index]) == lowered(expected) else { return nil }
      index = bytes.index(after: index)
    }
    return index < bytes.endIndex ? value[index...] : nil
  }

  /// The token's identity and headers when `provider` accepts it at `now`; nil otherwise.
  private static func verify(_ text: Substring, with provider: Provider, at now: Int64) -> AcceptedToken? {
    guard let token = JWTToken(text), let algorithm = token.header["alg"] as? String, algorithm != "none"
    else {
      return nil
    }
    let candidates = provider.keys.candidates(for: token.header["kid"] as? String)
    guard
      candidates.contains(where: {
        JWTKeySet.verify(token.signature, of: token.signingInput, algorithm: algorithm, with: $0)
      })
    else { return nil }
    let config = provider.config
    let skew = Int64(config.clockSkewSeconds)
    let expires = (token.claims["exp"] as? NSNumber)?.int64Value
    let notBefore = (token.claims["nbf"] as? NSNumber)?.int64Value
    if let expires, now > expires + skew { return nil }
    if let notBefore, now < notBefore - skew { return nil }
    if let issuer = config.issuer, token.claims["iss"] as? String != issuer { return nil }
    if !config.audiences.isEmpty {
      let audiences =
        (token.claims["aud"] as? [String]) ?? (token.claims["aud"] as? String).map { [$0] } ?? []
      guard audiences.contains(where: config.audiences.contains) else { return nil }
    }
    var headers: [AuthHeader] = []
    for mapping in config.claimsToHeaders {
      guard let value = claim(mapping.claim, in: token.claims) else { continue }
      headers.append(AuthHeader(name: mapping.header, value: value, append: mapping.append))
    }
    return AcceptedToken(
      subject: token.claims["sub"] as? String, headers: headers, validFrom: notBefore.map { $0 - skew },
      validUntil: expires.map { $0 + skew }, version: provider.version)
  }

  /// A claim as header text; a dotted name reads nested objects.
  private static func claim(_ name: String, in claims: [String: Any]) -> String? {
    var value: Any? = claims
    for part in name.split(separator: ".") { value = (value as? [String: Any])?[String(part)] }
    if let text = value as? String { return text }
    // Numbers, booleans, objects and lists as JSON writes them (wrapped in a list, so that any value is a
    // valid JSON document, then unwrapped).
    guard let value, let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
    else {
      return nil
    }
    return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
  }
}

/// A compact JWS (RFC 7515 §7.1): header and claims decoded, the signed bytes and the signature.
struct JWTToken {
  let header: [String: Any]
  let claims: [String: Any]
  let signingInput: Data
  let signature: Data

  init?(_ text: Substring) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3,
      let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
      let signature = Base64URL.decode(parts[2]),
      let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any],
      let claims = try? JSONSerialization.jsonObject(with: claimBytes) as? [String: Any]
    else { return nil }
    self.header = header
    self.claims = claims
    self.signature = signature
    signingInput = Data(text[..<parts[1].endIndex].utf8)
  }
}

/// A token a provider accepted: what it lets through, and when.
struct AcceptedToken {
  let subject: String?
  let headers: [AuthHeader]
  let validFrom: Int64?
  let validUntil: Int64?
  /// The provider's version it was accepted under.
  let version: Int

  func isValid(at now: Int64, version current: Int) -> Bool {
    guard version == current else { return false }
    if let validFrom, now < validFrom { return false }
    if let validUntil, now > validUntil { return false }
    return true
  }
}
