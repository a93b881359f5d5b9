import NIOCore
import PorticoTranslate

/// `ldap`: the user name and password of an `Authorization: Basic` header are bound as the user's DN
/// (`userDnTemplate` with the name escaped as RFC 4514 says, so no name can reach another entry), then the
/// user's membership attribute must name one of `allowedGroups`. A missing header, an empty password
/// (refused before any bind: LDAP takes it as an anonymous bind) or a refused bind is 401; a user in none
/// of the groups is 403; a server that is down or slow is a failed check (`statusOnError`). The server is
/// asked on NIO's thread pool, never on an event loop.
struct LDAPStep: AuthStep {
  private let check: ExtAuthConfig.LDAPCheck
  private let pool: LDAPPool
  private let timeoutSeconds: Double
  private static let refusal = AuthOutcome.denied(
    status: 401, challenge: "Basic realm=\"portico\", charset=\"UTF-8\"")

  init(_ check: ExtAuthConfig.LDAPCheck, timeout: TimeAmount) {
    self.check = check
    timeoutSeconds = Double(timeout.nanoseconds) / 1e9
    pool = LDAPPool.shared(
      uri: check.uri, maxSize: check.poolMaxSize, initialSize: check.poolInitialSize,
      timeoutSeconds: timeoutSeconds)
  }

  var replacedHeaders: [String] { [] }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    guard let header = call.request.head.firstValue(named: "authorization"),
      let (user, password) = BasicCredentials.parse(header), !user.isEmpty, !password.isEmpty
    else { return Self.refusal }
    let dn = check.userDnTemplate.replacingOccurrences(of: "%s", with: Self.escaped(user))
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let check = check
    pool.authenticate(
      dn: dn, password: password, attribute: check.checksGroups ? check.membershipAttribute : nil,
      timeoutSeconds: timeoutSeconds, on: loop
    ).whenComplete { result in
      switch result {
      case .success(.bound(let groups)):
        let allowed = !check.checksGroups || groups.contains { Self.sameDN($0, asAnyOf: check.allowedGroups) }
        answer.value(allowed ? .allowed(identity: user, headers: []) : .denied(status: 403, challenge: nil))
      case .success(.refused):
        answer.value(Self.refusal)
      case .success(.unavailable(let reason)):
        answer.value(.failed(reason: "LDAP server \(check.uri): \(reason)"))
      case .failure(let error):
        answer.value(.failed(reason: "LDAP server \(check.uri): \(error)"))
      }
    }
    return nil
  }

  /// An attribute value for a DN (RFC 4514): every byte but letters, digits and `-._@` written as `\XX`, so
  /// that no character of a user name is read as DN syntax (`,`, `+`, `=`, `\`, quotes, a leading `#` or
  /// space...).
  static func escaped(_ value: String) -> String {
    var result = ""
    for byte in value.utf8 {
      let scalar = Unicode.Scalar(byte)
      if byte < 0x80,
        scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar))
          || "-._@".unicodeScalars.contains(scalar)
      {
        result.unicodeScalars.append(scalar)
      } else {
        result += "\\" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
      }
    }
    return result
  }

  /// DNs compared as users write them: case and spaces after separators aside.
  static func sameDN(_ value: String, asAnyOf groups: [String]) -> Bool {
    func normalized(_ dn: String) -> String {
      dn.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.joined(
        separator: ",")
    }
    let candidate = normalized(value)
    return groups.contains { normalized($0) == candidate }
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
