import XCTest

@testable import PorticoProxy

/// bcrypt against hashes made by the `bcrypt` Python package (the pyca one that most Python password stores
/// use): each verifies with its password and no other, under every prefix; the key is the first 72 bytes.
final class BCryptTests: XCTestCase {
  static let vectors: [(password: String, hash: String)] = [
    ("secret123", "$2b$04$tXC0l74UJzdXTfEF0jhE0exWkPe0pTXzCBx58NltiUBpRteaFUoJ."),
    ("", "$2b$04$7No76dkqDJjDqrqzw4NtQuS4OqSXMdP5t./nCLNm8mRWF6U0suUyS"),
    ("correct horse battery staple", "$2b$05$/aTgDOlKc8J3Zd1sAJNVz.dGAfU3NsDsibf5fX7zT47lDmxXACPcC"),
    ("été", "$2b$04$l8qXjMLOpJc/cdNIoNQjW.9bXTakyTEur4ThuM8T20m4JmfoEuETe"),
    (String(repeating: "x", count: 72), "$2b$04$LLBcfuveaqy75FH1zcd1p.AEUuEVihb9QnVAXO7fWdlcYvsrHvgv."),
    ("secret123", "$2a$04$6IeZmubPqVVEaoIIYkD0c.7FAV3vhnclynuLCRpynoTRCOY51uxUm"),
  ]

  func testHashesVerifyWithTheirPasswordOnly() {
    for (password, hash) in Self.vectors {
      XCTAssertTrue(BCrypt.verify(password: Array(password.utf8), hash: hash), "\(password) \(hash)")
      let other = "!" + password
      XCTAssertFalse(BCrypt.verify(password: Array(other.utf8), hash: hash), "\(other) \(hash)")
    }
  }

  func testThePrefixesAreTheSameAlgorithm() {
    let hash = Self.vectors[0].hash
    XCTAssertTrue(BCrypt.verify(password: Array("secret123".utf8), hash: "$2y$" + hash.dropFirst(4)))
  }

  func testOnlyTheFirst72BytesCount() {
    let hash = Self.vectors[4].hash
    XCTAssertTrue(BCrypt.verify(password: Array(String(repeating: "x", count: 80).utf8), hash: hash))
    XCTAssertFalse(BCrypt.verify(password: Array(String(repeating: "x", count: 71).utf8), hash: hash))
  }

  func testMalformedHashesNeverVerify() {
    let good = Self.vectors[0].hash
    for hash in [
      "", "$2b$04$", String(good.dropLast()), "$2c$" + good.dropFirst(4), "$2b$99$" + good.dropFirst(7),
      "$2b$04$" + String(repeating: "!", count: 53),
    ] {
      XCTAssertFalse(BCrypt.verify(password: Array("secret123".utf8), hash: hash), hash)
    }
  }
}
