import CLDAP
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What asking an LDAP server found about a user.
enum LDAPVerdict: Sendable {
  /// Bound as the user; the values of the membership attribute (when asked for).
  case bound(groups: [String])
  /// The server refused the DN and password (or does not know the DN).
  case refused
  /// The server could not be asked: down, slow, or answering with a server-side error.
  case unavailable(String)
}

/// One connection to an LDAP server (OpenLDAP's client library, blocking), used by one thread at a time.
final class LDAPConnection: @unchecked Sendable {
  // @unchecked: a connection is only ever used by the thread that took it from its pool.
  private let handle: OpaquePointer
  private let timeout: timeval

  init?(uri: String, timeoutSeconds: Double) {
    var made: OpaquePointer?
    guard ldap_initialize(&made, uri) == LDAP_SUCCESS, let made else { return nil }
    handle = made
    timeout = timeval(
      tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - timeoutSeconds.rounded(.down)) * 1_000_000))
    var version = Int32(LDAP_VERSION3)
    ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &version)
    var limit = timeout
    ldap_set_option(handle, LDAP_OPT_NETWORK_TIMEOUT, &limit)
    ldap_set_option(handle, LDAP_OPT_TIMEOUT, &limit)
    // LDAP_OPT_OFF: a referral never sends the credentials to another server.
    ldap_set_option(handle, LDAP_OPT_REFERRALS, nil)
  }

  deinit { ldap_unbind_ext_s(handle, nil, nil) }

  /// A simple bind as `dn`, then (when `attribute` is given) the values of that attribute of the user's own
  /// entry. The password must not be empty: LDAP takes an empty one as an anonymous bind, which succeeds.
  func authenticate(dn: String, password: String, attribute: String?) -> LDAPVerdict {
    precondition(!password.isEmpty, "an empty password binds anonymously")
    var bytes = Array(password.utf8)
    let code = bytes.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { characters in
        var credential = berval(bv_len: ber_len_t(buffer.count), bv_val: characters)
        return ldap_sasl_bind_s(handle, dn, nil, &credential, nil, nil, nil)
      }
    }
    guard code == LDAP_SUCCESS else { return Self.verdict(for: code) }
    guard let attribute else { return .bound(groups: []) }
    return values(of: attribute, at: dn)
  }

  /// A base search of the user's own entry, for one attribute. The filter is fixed: nothing the client sent
  /// is ever part of one.
  private func values(of attribute: String, at dn: String) -> LDAPVerdict {
    var result: OpaquePointer?
    defer { if let result { ldap_msgfree(result) } }
    var limit = timeout
    let code = attribute.withCString { name in
      var names: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: name), nil]
      return ldap_search_ext_s(
        handle, dn, LDAP_SCOPE_BASE, "(objectClass=*)", &names, 0, nil, nil, &limit, 1, &result)
    }
    guard code == LDAP_SUCCESS else { return Self.verdict(for: code) }
    guard let entry = ldap_first_entry(handle, result),
      let values = ldap_get_values_len(handle, entry, attribute)
    else { return .bound(groups: []) }
    defer { ldap_value_free_len(values) }
    var groups: [String] = []
    var index = 0
    while let value = values[index] {
      let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
      groups.append(String(decoding: bytes, as: UTF8.self))
      index += 1
    }
    return .bound(groups: groups)
  }

  /// A failed operation: the server's refusal of the credentials, or the server being unusable.
  private static func verdict(for code: Int32) -> LDAPVerdict {
    switch code {
    case LDAP_INVALID_CREDENTIALS, LDAP_INVALID_DN_SYNTAX, LDAP_NO_SUCH_OBJECT, LDAP_INAPPROPRIATE_AUTH,
      LDAP_UNWILLING_TO_PERFORM:
      return .refused
    default:
      return .unavailable(String(cString: ldap_err2string(code)))
    }
  }
}

/// The connections to one LDAP server, shared by every route and event loop that use it: at most
/// `maxSize` kept open, taken by one blocking operation at a time on NIO's thread pool, never on an event
/// loop. A connection that saw the server fail is closed, not kept.
final class LDAPPool: Sendable {
  let uri: String
  private let maxSize: Int
  private let idle = Mutex<[LDAPConnection]>([])

  private init(uri: String, maxSize: Int) {
    self.uri = uri
    self.maxSize = maxSize
  }

  /// The one pool for `uri` in this process (the first configuration's size wins), with `initialSize`
  /// connections opened in the background when it is made.
  static func shared(uri: String, maxSize: Int, initialSize: Int, timeoutSeconds: Double) -> LDAPPool {
    let (pool, made) = registry.withLock { known in
      if let found = known[uri] { return (found, false) }
      let pool = LDAPPool(uri: uri, maxSize: maxSize)
      known[uri] = pool
      return (pool, true)
    }
    if made, initialSize > 0 {
      NIOThreadPool.singleton.submit { state in
        guard case .active = state else { return }
        let opened = (0..<initialSize).compactMap { _ in
          LDAPConnection(uri: uri, timeoutSeconds: timeoutSeconds)
        }
        pool.idle.withLock { $0 += opened.prefix(max(0, maxSize - $0.count)) }
      }
    }
    return pool
  }

  private static let registry = Mutex<[String: LDAPPool]>([:])

  /// Binds as `dn` and reads `attribute`, on the thread pool; the verdict arrives on `loop`.
  func authenticate(
    dn: String, password: String, attribute: String?, timeoutSeconds: Double, on loop: EventLoop
  ) -> EventLoopFuture<LDAPVerdict> {
    NIOThreadPool.singleton.runIfActive(eventLoop: loop) { [self] in
      guard
        let connection = idle.withLock({ $0.popLast() })
          ?? LDAPConnection(uri: uri, timeoutSeconds: timeoutSeconds)
      else { return .unavailable("cannot use \(uri)") }
      let verdict = connection.authenticate(dn: dn, password: password, attribute: attribute)
      if case .unavailable = verdict { return verdict }
      idle.withLock { if $0.count < maxSize { $0.append(connection) } }
      return verdict
    }
  }
}
