import NIOCore
import PorticoCore

/// What the gateway needs to know about gRPC (over HTTP/2, https://grpc.io/docs/guides/): which requests
/// are gRPC calls, how a caller's deadline is written, and how the gateway's own errors are said to a
/// gRPC client, which reads a status from `grpc-status`, not from the HTTP status.
enum GRPCCalls {
  /// `application/grpc`, optionally `+format` or parameters; gRPC-Web (`application/grpc-web`) is not
  /// gRPC over HTTP/2 and is left alone.
  static func isCall(contentType: Substring) -> Bool {
    let prefix = "application/grpc"
    guard contentType.utf8.count >= prefix.utf8.count,
      contentType.prefix(prefix.count).equalsIgnoringASCIICase(prefix)
    else { return false }
    let rest = contentType.dropFirst(prefix.count)
    return rest.isEmpty || rest.first == "+" || rest.first == ";"
  }

  /// A `grpc-timeout` value: up to eight digits and a unit (H, M, S, m, u, n); nil when malformed.
  static func timeout(_ value: Substring) -> TimeAmount? {
    guard let unit = value.last, (2...9).contains(value.utf8.count),
      let amount = Int64(value.dropLast()), amount >= 0
    else { return nil }
    switch unit {
    case "H": return .hours(amount)
    case "M": return .minutes(amount)
    case "S": return .seconds(amount)
    case "m": return .milliseconds(amount)
    case "u": return .microseconds(amount)
    case "n": return .nanoseconds(amount)
    default: return nil
    }
  }

  /// The gRPC status code for an error the gateway answers with `httpStatus` (the mapping gRPC documents
  /// for HTTP errors, except that the gateway's own timeouts are deadlines).
  static func statusCode(forHTTP httpStatus: Int) -> Int {
    switch httpStatus {
    case 400: 13  // INTERNAL
    case 401: 16  // UNAUTHENTICATED
    case 403: 7  // PERMISSION_DENIED
    case 404: 12  // UNIMPLEMENTED
    case 413: 8  // RESOURCE_EXHAUSTED
    case 504: 4  // DEADLINE_EXCEEDED
    case 421, 429, 502, 503: 14  // UNAVAILABLE
    default: 2  // UNKNOWN
    }
  }

  /// The fields that carry a status: in a "trailers-only" response's head, or in the trailers of a call
  /// whose response had begun.
  static func statusFields(httpStatus: Int, message: String) -> [(name: String, value: String)] {
    [("grpc-status", String(statusCode(forHTTP: httpStatus))), ("grpc-message", percentEncoded(message))]
  }

  /// A trailer section (field lines and the closing empty line) with the status.
  static func trailers(httpStatus: Int, message: String, allocator: ByteBufferAllocator) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: 64 + message.utf8.count)
    for (name, value) in statusFields(httpStatus: httpStatus, message: message) {
      buffer.writeString("\(name): \(value)\r\n")
    }
    buffer.writeStaticString("\r\n")
    return buffer
  }

  /// `grpc-message` is percent-encoded UTF-8: bytes outside printable ASCII, and `%`, are escaped.
  static func percentEncoded(_ message: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(message.utf8.count)
    for byte in message.utf8 {
      if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
        bytes.append(byte)
      } else {
        bytes.append(UInt8(ascii: "%"))
        bytes.append(hex[Int(byte >> 4)])
        bytes.append(hex[Int(byte & 0xF)])
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
