import PorticoCore

/// Header fields the gateway acts on, recognised once while a head is parsed so that nothing compares names
/// again on the way out.
enum KnownField: UInt8 {
  case other
  case host
  case contentLength
  case transferEncoding
  case expect
  case xForwardedFor
  case xForwardedProto
  case xForwardedHost
  case xRequestID
  // Hop-by-hop fields (RFC 9110 §7.6.1): they stop at the gateway.
  case connection
  case keepAlive
  case proxyConnection
  case te
  case trailer
  case upgrade

  var isHopByHop: Bool { rawValue >= KnownField.connection.rawValue }

  /// The field whose lowercased name is `bytes[start..<end]` folded to lowercase.
  static func classify(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> KnownField {
    func named(_ name: StaticString) -> Bool { matches(bytes, at: start, name) }
    switch end - start {
    case 2: return named("te") ? .te : .other
    case 4: return named("host") ? .host : .other
    case 6: return named("expect") ? .expect : .other
    case 7: return named("trailer") ? .trailer : named("upgrade") ? .upgrade : .other
    case 10: return named("connection") ? .connection : named("keep-alive") ? .keepAlive : .other
    case 12: return named("x-request-id") ? .xRequestID : .other
    case 14: return named("content-length") ? .contentLength : .other
    case 15: return named("x-forwarded-for") ? .xForwardedFor : .other
    case 16:
      return named("proxy-connection")
        ? .proxyConnection : named("x-forwarded-host") ? .xForwardedHost : .other
    case 17:
      return named("transfer-encoding")
        ? .transferEncoding : named("x-forwarded-proto") ? .xForwardedProto : .other
    default: return .other
    }
  }

  /// True when the bytes at `start` equal the lowercase `name`, ignoring ASCII case.
  @inline(__always)
  static func matches(_ bytes: UnsafeRawBufferPointer, at start: Int, _ name: StaticString) -> Bool {
    let count = name.utf8CodeUnitCount
    guard start + count <= bytes.count else { return false }
    let expected = name.utf8Start
    for offset in 0..<count where bytes[start + offset].asciiLowercased != expected[offset] {
      return false
    }
    return true
  }

  /// True when the bytes at `start` equal `text` exactly.
  static func matchesExactly(_ bytes: UnsafeRawBufferPointer, at start: Int, _ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    guard start + count <= bytes.count else { return false }
    let expected = text.utf8Start
    for offset in 0..<count where bytes[start + offset] != expected[offset] { return false }
    return true
  }
}
