/// How a message's body is delimited (RFC 9112 §6).
enum BodyFraming: Equatable {
  case none
  case length(Int)
  case chunked
  /// A response without length or chunking: its body ends when the connection does.
  case untilClose
}
