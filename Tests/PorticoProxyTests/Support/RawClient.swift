import Foundation
import XCTest

/// A blocking client that sends raw bytes and reads what comes back until the gateway closes the
/// connection or goes quiet: for requests no HTTP library would send.
enum RawClient {
  /// Sends `bytes` on a new connection and returns everything received within `quiet` of the last byte.
  static func exchange(_ bytes: [UInt8], port: Int, quiet: TimeInterval = 0.5) throws -> String {
    let socket = try LoopbackSocket.connect(port: port)
    defer { close(socket) }
    sendAll(bytes, on: socket)
    return receive(on: socket, quiet: quiet).text
  }

  static func sendAll(_ bytes: [UInt8], on socket: Int32) {
    var offset = 0
    while offset < bytes.count {
      let sent = bytes[offset...].withUnsafeBytes {
        send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if sent <= 0 { return }
      offset += sent
    }
  }

  /// Reads until the peer closes (or resets) the connection or nothing arrives for `quiet` seconds;
  /// `closed` tells which.
  static func receive(on socket: Int32, quiet: TimeInterval) -> (text: String, closed: Bool) {
    let (bytes, closed) = receiveBytes(on: socket, quiet: quiet)
    return (String(decoding: bytes, as: UTF8.self), closed)
  }

  static func receiveBytes(on socket: Int32, quiet: TimeInterval) -> (bytes: [UInt8], closed: Bool) {
    var timeout = timeval(tv_sec: Int(quiet), tv_usec: Int((quiet - Double(Int(quiet))) * 1e6))
    setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = recv(socket, &buffer, buffer.count, 0)
      if count > 0 {
        received += buffer[..<count]
        continue
      }
      // Zero is an orderly close, a reset is a close too; a timeout means the peer went quiet.
      let closed = count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
      return (received, closed)
    }
  }

  /// The status codes of every response in `text`, in order.
  static func statuses(_ text: String) -> [Int] {
    text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
  }
}
