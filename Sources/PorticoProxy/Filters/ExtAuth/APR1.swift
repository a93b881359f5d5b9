import Crypto

/// Apache's APR1 password hash (`htpasswd -m`, `$apr1$SALT$HASH`): MD5-crypt with the `$apr1$` magic. MD5
/// is weak, but this is the format users' existing password files are in; the thousand rounds are the
/// algorithm's, not a choice.
enum APR1 {
  /// The 22 characters after `$apr1$SALT$`.
  static func hash(password: [UInt8], salt: [UInt8]) -> [UInt8] {
    let salt = Array(salt.prefix(8))
    let magic = Array("$apr1$".utf8)
    var alternate = Insecure.MD5()
    alternate.update(data: password + salt + password)
    let alternateDigest = Array(alternate.finalize())

    var context = Insecure.MD5()
    context.update(data: password + magic + salt)
    var remaining = password.count
    while remaining > 0 {
      context.update(data: alternateDigest.prefix(min(remaining, 16)))
      remaining -= 16
    }
    var bits = password.count
    while bits > 0 {
      context.update(data: bits & 1 == 1 ? [0] : [password.first ?? 0])
      bits >>= 1
    }
    var digest = Array(context.finalize())

    for round in 0..<1000 {
      var step = Insecure.MD5()
      step.update(data: round & 1 == 1 ? password : digest)
      if round % 3 != 0 { step.update(data: salt) }
      if round % 7 != 0 { step.update(data: password) }
      step.update(data: round & 1 == 1 ? digest : password)
      digest = Array(step.finalize())
    }

    var encoded: [UInt8] = []
    encoded.reserveCapacity(22)
    func append(_ value: UInt32, count: Int) {
      var value = value
      for _ in 0..<count {
        encoded.append(alphabet[Int(value & 0x3f)])
        value >>= 6
      }
    }
    for (first, second, third) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
      append(UInt32(digest[first]) << 16 | UInt32(digest[second]) << 8 | UInt32(digest[third]), count: 4)
    }
    append(UInt32(digest[11]), count: 2)
    return encoded
  }

  private static let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
}
