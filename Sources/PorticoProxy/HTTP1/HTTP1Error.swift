/// Why a message cannot be read. For a request, `status` is what the client is told before its connection
/// closes; for a response from an upstream, the client gets 502.
struct HTTP1Error: Error, Equatable, CustomStringConvertible {
  let status: Int
  let reason: String

  static func badRequest(_ reason: String) -> HTTP1Error { HTTP1Error(status: 400, reason: reason) }
  static func uriTooLong() -> HTTP1Error { HTTP1Error(status: 414, reason: "request line too long") }
  static func headersTooLarge(_ reason: String) -> HTTP1Error { HTTP1Error(status: 431, reason: reason) }
  static func headerTimeout() -> HTTP1Error { HTTP1Error(status: 408, reason: "request header timeout") }
  static func notImplemented(_ reason: String) -> HTTP1Error { HTTP1Error(status: 501, reason: reason) }
  static func versionNotSupported() -> HTTP1Error {
    HTTP1Error(status: 505, reason: "HTTP version not supported")
  }

  var description: String { "\(status): \(reason)" }
}
