import Crypto
import Foundation
import Synchronization

/// Seals what a browser keeps for the gateway (a session, a sign-in in progress) with AES-GCM: the browser
/// can neither read nor change it, and a cookie made by anyone else does not open. The first key seals;
/// every key opens, so a key can be rotated without ending the sessions sealed before. The cookie's name is
/// bound in as authenticated data, so a sealed value cannot be moved to another cookie.
struct SessionSeal: Sendable {
  private let keys: [SymmetricKey]

  init(keys: [[UInt8]]) { self.keys = keys.map { SymmetricKey(data: $0) } }

  /// The gateway's own key for an AuthConfig without one: made once per process, the same on every event
  /// loop and across reloads.
  static func processKey(for config: String) -> [UInt8] {
    processKeys.withLock { keys in
      if let key = keys[config] { return key }
      let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
      keys[config] = key
      return key
    }
  }

  private static let processKeys = Mutex<[String: [UInt8]]>([:])

  func seal(_ value: some Encodable, as name: String) -> String? {
    guard let key = keys.first, let plain = try? JSONEncoder().encode(value),
      let box = try? AES.GCM.seal(plain, using: key, authenticating: Data(name.utf8)),
      let combined = box.combined
    else { return nil }
    return Base64URL.encode(combined)
  }

  func open<Value: Decodable>(_ text: some StringProtocol, as name: String, _ type: Value.Type) -> Value? {
    guard let combined = Base64URL.decode(text), let box = try? AES.GCM.SealedBox(combined: combined) else {
      return nil
    }
    for key in keys {
      guard let plain = try? AES.GCM.open(box, using: key, authenticating: Data(name.utf8)) else { continue }
      return try? JSONDecoder().decode(type, from: plain)
    }
    return nil
  }
}
