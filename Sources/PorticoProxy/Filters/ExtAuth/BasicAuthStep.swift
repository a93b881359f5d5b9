import Crypto
import Foundation
import NIOCore
import NIOPosix
import PorticoAPI
import PorticoTranslate

/// `basicAuth`: the user name and password of an `Authorization: Basic` header (RFC 7617), checked against
/// the user's APR1-MD5 hash, or bcrypt hash. Both cost many rounds by design (APR1 a thousand MD5s; bcrypt
/// 2^cost key expansions, so it runs on NIO's thread pool, never on an event loop), so a credential that
/// passed is remembered on its event loop, by a SHA-256 of it and of the hash it matched, for a minute: the
/// next requests with it cost one hash, and a changed password is checked afresh.
struct BasicAuthStep: AuthStep {
  private let users: [String: BasicAuth.APRUser]
  /// Where each loop keeps the credentials that passed.
  private let cacheKey: LoopStateKey
  private let refusal: AuthOutcome

  init(_ check: ExtAuthConfig.BasicCheck, cacheKey: String) {
    let realm = check.realm ?? "portico"
    users = check.users
    self.cacheKey = LoopStateKey(cacheKey)
    let quoted = realm.replacingOccurrences(of: "\"", with: "'")
    refusal = .denied(status: 401, challenge: "Basic realm=\"\(quoted)\", charset=\"UTF-8\"")
  }

  var replacedHeaders: [String] { [] }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    guard let header = call.request.head.firstValue(named: "authorization"),
      let (user, password) = BasicCredentials.parse(header), let hash = users[user]
    else { return refusal }
    let fingerprint = Array(
      SHA256.hash(
        data: Array("\(user)\u{0}\(password)\u{0}\(hash.salt ?? "")\u{0}\(hash.hashedPassword)".utf8)))
    let now = Int64(Date().timeIntervalSince1970)
    let passed = call.loopState(cacheKey) { RecentPasses<[UInt8], Void>(lifetime: 60) }
    if passed.value(for: fingerprint, at: now) != nil { return .allowed(identity: user, headers: []) }
    guard hash.isBCrypt else {
      let computed = APR1.hash(password: Array(password.utf8), salt: Array((hash.salt ?? "").utf8))
      guard constantTimeEqual(computed, Array(hash.hashedPassword.utf8)) else { return refusal }
      passed.insert((), for: fingerprint, at: now)
      return .allowed(identity: user, headers: [])
    }
    let loop = call.loop.eventLoop
    let remember = NIOLoopBound({ passed.insert((), for: fingerprint, at: now) }, eventLoop: loop)
    let answer = NIOLoopBound(done, eventLoop: loop)
    let refusal = refusal
    NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
      BCrypt.verify(password: Array(password.utf8), hash: hash.hashedPassword)
    }.whenComplete { result in
      guard case .success(true) = result else { return answer.value(refusal) }
      remember.value()
      answer.value(.allowed(identity: user, headers: []))
    }
    return nil
  }
}

/// The `Basic` scheme of RFC 7617: `Basic base64(user:password)`, the scheme's name in any case.
enum BasicCredentials {
  static func parse(_ header: Substring) -> (user: String, password: String)? {
    let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "basic",
      let decoded = Data(base64Encoded: String(parts[1].trimmingCharacters(in: .whitespaces))),
      let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
    else { return nil }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
  }
}
