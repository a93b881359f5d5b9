/// bcrypt (Provos and Mazières, 1999) as `htpasswd -B` and most password stores write it: `$2b$` (or `$2a$`,
/// `$2y$`), a two-digit cost, then 22 characters of salt and 31 of hash in bcrypt's own base64. The key is
/// the password's first 72 bytes and a zero byte. Costly on purpose: callers run it off the event loops.
enum BCrypt {
  /// A stored hash, read.
  struct Hash {
    let cost: Int
    let salt: [UInt8]
    /// The 23 bytes the hash keeps of its 24-byte result.
    let digest: [UInt8]

    init?(_ text: String) {
      let bytes = Array(text.utf8)
      guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
        [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
        bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
        let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost),
        let salt = BCrypt.decode(bytes[7..<29], count: 16),
        let digest = BCrypt.decode(bytes[29...], count: 23)
      else { return nil }
      self.cost = cost
      self.salt = salt
      self.digest = digest
    }
  }

  /// Whether `password` hashes to `hash`; false for a hash that is not bcrypt.
  static func verify(password: some Collection<UInt8>, hash: String) -> Bool {
    guard let stored = Hash(hash) else { return false }
    return constantTimeEqual(digest(password: password, salt: stored.salt, cost: stored.cost), stored.digest)
  }

  /// The 23 bytes bcrypt keeps for `password` under `salt` (16 bytes) at `cost`.
  static func digest(password: some Collection<UInt8>, salt: [UInt8], cost: Int) -> [UInt8] {
    var key = Array(password.prefix(72))
    if key.count < 72 { key.append(0) }
    var state = Blowfish()
    state.expand(key: key, salt: salt)
    for _ in 0..<(1 << cost) {
      state.expand(key: key)
      state.expand(key: salt)
    }
    // "OrpheanBeholderScryDoubt", enciphered 64 times.
    var text: [UInt32] = [0x4F72_7068, 0x6561_6E42, 0x6568_6F6C, 0x6465_7253, 0x6372_7944, 0x6F75_6274]
    for _ in 0..<64 {
      for block in stride(from: 0, to: 6, by: 2) {
        (text[block], text[block + 1]) = state.encipher(text[block], text[block + 1])
      }
    }
    var bytes: [UInt8] = []
    for word in text {
      bytes += [UInt8(word >> 24), UInt8(word >> 16 & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word & 0xFF)]
    }
    return Array(bytes.prefix(23))
  }

  private static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
  private static let values: [Int8] = {
    var values = [Int8](repeating: -1, count: 256)
    for (index, character) in alphabet.enumerated() { values[Int(character)] = Int8(index) }
    return values
  }()

  /// bcrypt's base64 (its own alphabet, no padding), `count` bytes from the characters.
  static func decode(_ characters: some Collection<UInt8>, count: Int) -> [UInt8]? {
    var bits: UInt32 = 0
    var held = 0
    var bytes: [UInt8] = []
    for character in characters {
      let value = values[Int(character)]
      guard value >= 0 else { return nil }
      bits = bits << 6 | UInt32(value)
      held += 6
      if held >= 8 {
        held -= 8
        bytes.append(UInt8(bits >> UInt32(held) & 0xFF))
      }
    }
    return bytes.count >= count ? Array(bytes.prefix(count)) : nil
  }
}

/// Blowfish's state, with bcrypt's expensive key schedule.
private struct Blowfish {
  var p = BlowfishTables.p
  var s = BlowfishTables.s

  func f(_ x: UInt32) -> UInt32 {
    let a = s[Int(x >> 24)]
    let b = s[256 + Int(x >> 16 & 0xFF)]
    let c = s[512 + Int(x >> 8 & 0xFF)]
    let d = s[768 + Int(x & 0xFF)]
    return ((a &+ b) ^ c) &+ d
  }

  func encipher(_ left: UInt32, _ right: UInt32) -> (UInt32, UInt32) {
    var left = left
    var right = right
    for round in stride(from: 0, to: 16, by: 2) {
      left ^= p[round]
      right ^= f(left)
      right ^= p[round + 1]
      left ^= f(right)
    }
    return (right ^ p[17], left ^ p[16])
  }

  /// The next 32 bits of `data`, read as a cycle.
  private static func word(_ data: [UInt8], _ position: inout Int) -> UInt32 {
    var word: UInt32 = 0
    for _ in 0..<4 {
      word = word << 8 | UInt32(data[position])
      position = (position + 1) % data.count
    }
    return word
  }

  /// The key mixed into the P-array, then the whole state re-enciphered (with the salt mixed in, when
  /// given: bcrypt's EksBlowfish setup).
  mutating func expand(key: [UInt8], salt: [UInt8]? = nil) {
    var position = 0
    for index in 0..<18 { p[index] ^= Self.word(key, &position) }
    var left: UInt32 = 0
    var right: UInt32 = 0
    var saltPosition = 0
    func next() {
      if let salt {
        left ^= Self.word(salt, &saltPosition)
        right ^= Self.word(salt, &saltPosition)
      }
      (left, right) = encipher(left, right)
    }
    for index in stride(from: 0, to: 18, by: 2) {
      next()
      (p[index], p[index + 1]) = (left, right)
    }
    for index in stride(from: 0, to: 1024, by: 2) {
      next()
      (s[index], s[index + 1]) = (left, right)
    }
  }
}
