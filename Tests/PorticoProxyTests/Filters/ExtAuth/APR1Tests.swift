import Foundation
import XCTest

@testable import PorticoProxy

/// APR1-MD5 as Apache's `htpasswd -m` and `openssl passwd -apr1` write it.
final class APR1Tests: XCTestCase {
  private func apr1(_ password: String, _ salt: String) -> String {
    String(decoding: APR1.hash(password: Array(password.utf8), salt: Array(salt.utf8)), as: UTF8.self)
  }

  func testAKnownHash() {
    // openssl passwd -apr1 -salt TYiryv0/ secret123
    XCTAssertEqual(apr1("secret123", "TYiryv0/"), "5CkRcqhZ6Ul0mrX7a5bep/")
  }

  /// Passwords of every length class the algorithm treats apart (empty, under and over 16 bytes), checked
  /// against OpenSSL's own implementation.
  func testAgreesWithOpenSSL() throws {
    let openssl = ["/usr/bin/openssl", "/bin/openssl"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
    let tool = try XCTUnwrap(openssl, "openssl is installed by the test command")
    for (password, salt) in [
      ("", "abc"), ("p", "12345678"), ("sixteen-bytes-xx", "s4lt"),
      ("a much longer password of 40+ bytes......", "Zz./09"),
    ] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: tool)
      process.arguments = ["passwd", "-apr1", "-salt", salt, password]
      let output = Pipe()
      process.standardOutput = output
      try process.run()
      process.waitUntilExit()
      let line = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      let expected = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "$").last.map(
        String.init)
      XCTAssertEqual(apr1(password, salt), expected, "password '\(password)'")
    }
  }
}
