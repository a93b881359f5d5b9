import Foundation
import NIOCore
import PorticoTranslate

/// `jwt`: a bearer token (RFC 7519) from where the providers look for it, its signature checked with a
/// provider's keys, then its times, issuer and audience. Providers are tried in name order; the first that
/// accepts the token decides the identity (`sub`) and the headers made from its claims. A token that passed
/// is remembered on its event loop until it expires (at most `rememberedFor`), so a client that
/// sends the same token again costs a lookup instead of a signature check. Remote keys are fetched when a
/// request first needs them (the request waits), when they are older than their cache duration, and when a
/// token names a key the set lacks (a rotation); see `RemoteJWKS`.
struct JWTStep: AuthStep {
  private enum Keys {
    case local(JWTKeySet)
    case remote(RemoteJWKS)
  }

  private struct Provider {
    let config: ExtAuthConfig.JWTCheck.Provider
    let keys: Keys
    /// Changes with the provider's keys or claims rules: a remembered token passed under these only (for
    /// remote keys, with the generation of the set that verified it).
    let version: Int
    /// Where each loop keeps the tokens this provider accepted.
    let cacheKey: LoopStateKey
    /// What a token found in each source (by position) takes out of the request sent upstream (nothing
    /// with `keepToken`), made once rather than per request.
    let removals: [(headers: [String], query: [String])]
  }

  private let providers: [Provider]
  private let policy: ExtAuthConfig.JWTCheck.Policy
  /// How long a token is trusted without a new signature check, even when it expires later.
  private static let rememberedFor: Int64 = 300
  private static let missing = AuthOutcome.denied(status: 401, challenge: "Bearer realm=\"portico\"")
  private static let invalid = AuthOutcome.denied(
    status: 401, challenge: "Bearer realm=\"portico\", error=\"invalid_token\"")

  init(_ check: ExtAuthConfig.JWTCheck, cacheKey: String) {
    providers = check.providers.map { provider in
      let keys: Keys =
        if let remote = provider.remoteKeys {
          .remote(RemoteJWKS.shared(url: remote.url, cacheSeconds: remote.cacheSeconds))
        } else {
          .local(JWTKeySet(provider.keys))
        }
      let removals = provider.sources.map { source -> (headers: [String], query: [String]) in
        switch (provider.keepToken, source) {
        case (true, _): ([], [])
        case (false, .header(let name, _)): ([name], [])
        case (false, .query(let name)): ([], [name])
        }
      }
      return Provider(
        config: provider, keys: keys, version: provider.hashValue,
        cacheKey: LoopStateKey(cacheKey + "." + provider.name),
        removals: removals)
    }
    policy = check.policy
  }

  /// How long fetching a provider's keys may take.
  private static let fetchTimeout = TimeAmount.seconds(5)

  private enum Evaluation {
    case decided(AuthOutcome)
    /// The request waits for these keys, then is evaluated again.
    case fetch(RemoteJWKS)
  }

  var replacedHeaders: [String] {
    providers.flatMap { $0.config.claimsToHeaders.filter { !$0.append }.map(\.header) }
  }

  func outcomeAtOnce(_ call: FilterCall) -> AuthOutcome? {
    guard case .decided(let outcome) = evaluate(call, at: Int64(Date().timeIntervalSince1970), mayFetch: true)
    else { return nil }
    return outcome
  }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    let now = Int64(Date().timeIntervalSince1970)
    switch evaluate(call, at: now, mayFetch: true) {
    case .decided(let outcome):
      return outcome
    case .fetch(let remote):
      let loop = call.loop.eventLoop
      let again = NIOLoopBound(
        {
          // Evaluated once more without fetching: the fetch has ended, however it went.
          if case .decided(let outcome) = evaluate(
            call, at: Int64(Date().timeIntervalSince1970), mayFetch: false)
          {
            done(outcome)
          }
        }, eventLoop: loop)
      remote.refresh(at: now, timeout: Self.fetchTimeout) { loop.execute { again.value() } }
      return nil
    }
  }

  private func evaluate(_ call: FilterCall, at now: Int64, mayFetch: Bool) -> Evaluation {
    var sawToken = false
    var keysMissing = false
    for provider in providers {
      guard let (token, source) = Self.token(in: call, from: provider.config.sources) else { continue }
      sawToken = true
      let keys: JWTKeySet
      var version = provider.version
      switch provider.keys {
      case .local(let set):
        keys = set
      case .remote(let remote):
        let (set, generation) = remote.current()
        if mayFetch, remote.wantsFetch(at: now) {
          // No keys yet: the request waits for them. Keys past their cache duration still serve while
          // the new set is fetched, so a slow or absent IdP does not hold requests up.
          guard set != nil else { return .fetch(remote) }
          remote.refresh(at: now, timeout: Self.fetchTimeout) {}
        }
        guard let set else {
          keysMissing = true
          continue
        }
        keys = set
        version &+= generation
      }
      // Looked up by the request's own bytes (a substring of its head), so a lookup copies nothing.
      let remembered = call.loopState(provider.cacheKey) {
        RecentPasses<Substring, AcceptedToken>(lifetime: Self.rememberedFor)
      }
      let accepted: AcceptedToken
      if let known = remembered.value(for: token, at: now), known.isValid(at: now, version: version) {
        accepted = known
      } else {
        switch Self.verify(token, with: provider.config, keys: keys, version: version, at: now) {
        case .accepted(let verified):
          // Remembered under this provider's version: after a key rotates, its tokens are checked afresh.
          // The key is the token's own copy, not a view of the request's head.
          remembered.insert(verified, for: Substring(String(token)), at: now)
          accepted = verified
        case .unknownKey:
          if mayFetch, case .remote(let remote) = provider.keys, remote.wantsFetch(at: now, unknownKey: true)
          {
            return .fetch(remote)
          }
          continue
        case .refused:
          continue
        }
      }
      // Later steps may read it (an OPA policy's `input.state.jwt`).
      call.verifiedJWT = token
      let (removing, removingQuery) = provider.removals[source]
      return .decided(
        .allowed(
          identity: accepted.subject, headers: accepted.headers, removing: removing,
          removingQuery: removingQuery
        ))
    }
    switch (sawToken, policy) {
    case (_, .allowMissingOrFailed), (false, .allowMissing):
      return .decided(.allowed(identity: nil, headers: []))
    case (false, _): return .decided(Self.missing)
    case (true, _):
      // No provider could check the token because its keys could not be fetched: a failed check.
      return .decided(keysMissing ? .failed(reason: "the JWT keys could not be fetched") : Self.invalid)
    }
  }

  /// The first token the sources hold, and the position of its source.
  private static func token(in call: FilterCall, from sources: [ExtAuthConfig.JWTCheck.TokenSource]) -> (
    Substring, Int
  )? {
    for (position, source) in sources.enumerated() {
      switch source {
      case .header(let name, let prefix):
        guard let value = call.request.head.firstValue(named: name), let token = after(prefix, in: value)
        else {
          continue
        }
        return (token, position)
      case .query(let name):
        if let token = QueryParameters.value(named: name, in: call.request.query) { return (token, position) }
      }
    }
    return nil
  }

  /// What follows `prefix` (its letters in any case) in `value`, when something does. By bytes: a token is
  /// hundreds of characters, and counting them as characters cost a third of the check.
  private static func after(_ prefix: String, in value: Substring) -> Substring? {
    guard value.hasPrefix(prefix, ignoringASCIICase: true) else { return nil }
    let start = value.utf8.index(value.startIndex, offsetBy: prefix.utf8.count)
    return start < value.endIndex ? value[start...] : nil
  }

  private enum Verification {
    case accepted(AcceptedToken)
    /// The token names a key the set does not have.
    case unknownKey
    case refused
  }

  /// The token's identity and headers when the provider accepts it at `now` with `keys`.
  private static func verify(
    _ text: Substring, with config: ExtAuthConfig.JWTCheck.Provider, keys: JWTKeySet, version: Int,
    at now: Int64
  ) -> Verification {
    guard let token = JWTToken(text) else { return .refused }
    switch token.signature(checkedWith: keys) {
    case .valid: break
    // A key the set lacks may come with a fetch; a token without `kid` names none.
    case .unknownKey: return token.header["kid"] == nil ? .refused : .unknownKey
    case .invalid: return .refused
    }
    let skew = Int64(config.clockSkewSeconds)
    let expires = (token.claims["exp"] as? NSNumber)?.int64Value
    let notBefore = (token.claims["nbf"] as? NSNumber)?.int64Value
    if let expires, now > expires + skew { return .refused }
    if let notBefore, now < notBefore - skew { return .refused }
    if let issuer = config.issuer, token.claims["iss"] as? String != issuer { return .refused }
    if !config.audiences.isEmpty {
      guard token.audiences.contains(where: config.audiences.contains) else { return .refused }
    }
    var headers: [AuthHeader] = []
    for mapping in config.claimsToHeaders {
      guard let value = claim(mapping.claim, in: token.claims) else { continue }
      headers.append(AuthHeader(name: mapping.header, value: value, append: mapping.append))
    }
    return .accepted(
      AcceptedToken(
        subject: token.claims["sub"] as? String, headers: headers, validFrom: notBefore.map { $0 - skew },
        validUntil: expires.map { $0 + skew }, version: version))
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

extension JWTToken {
  enum SignatureCheck {
    case valid
    /// The set has no key the token could be checked with.
    case unknownKey
    case invalid
  }

  /// Whether one of `keys` signed the token with the algorithm its header names; `none` never passes.
  func signature(checkedWith keys: JWTKeySet) -> SignatureCheck {
    guard let algorithm = header["alg"] as? String, algorithm != "none" else { return .invalid }
    let candidates = keys.candidates(for: header["kid"] as? String)
    if candidates.isEmpty { return .unknownKey }
    let signed = candidates.contains {
      JWTKeySet.verify(signature, of: signingInput, algorithm: algorithm, with: $0)
    }
    return signed ? .valid : .invalid
  }

  /// `aud`, as a list whichever way the token writes it.
  var audiences: [String] { (claims["aud"] as? [String]) ?? (claims["aud"] as? String).map { [$0] } ?? [] }
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
