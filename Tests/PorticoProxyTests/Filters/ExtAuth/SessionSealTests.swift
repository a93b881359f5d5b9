import XCTest

@testable import PorticoProxy

/// Sealed cookies: what one key seals, only the keys that include it open, and only under the same name.
final class SessionSealTests: XCTestCase {
  private struct Value: Codable, Equatable {
    let subject: String
  }

  private let old = Array(repeating: UInt8(1), count: 32)
  private let new = Array(repeating: UInt8(2), count: 32)

  func testARotatedKeyStillOpensWhatItSealed() throws {
    let before = SessionSeal(keys: [old])
    let sealed = try XCTUnwrap(before.seal(Value(subject: "alice"), as: "session"))
    let rotated = SessionSeal(keys: [new, old])
    XCTAssertEqual(
      rotated.open(sealed, as: "session", Value.self), Value(subject: "alice"), "sessions survive")
    let resealed = try XCTUnwrap(rotated.seal(Value(subject: "alice"), as: "session"))
    XCTAssertNil(before.open(resealed, as: "session", Value.self), "new cookies are sealed with the new key")
    XCTAssertNil(
      SessionSeal(keys: [new]).open(sealed, as: "session", Value.self), "a retired key opens nothing")
  }

  func testASealedValueOpensOnlyUnderItsOwnNameAndUnaltered() throws {
    let seal = SessionSeal(keys: [old])
    let sealed = try XCTUnwrap(seal.seal(Value(subject: "alice"), as: "session"))
    XCTAssertNil(seal.open(sealed, as: "sign-in", Value.self))
    var bytes = Array(sealed.utf8)
    bytes[10] = bytes[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    XCTAssertNil(seal.open(String(decoding: bytes, as: UTF8.self), as: "session", Value.self))
    XCTAssertNil(seal.open("not-base64!", as: "session", Value.self))
  }
}
