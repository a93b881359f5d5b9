import NIOCore

/// Bounds on what an HTTP/1.1 peer may send, and how slowly, before it is refused. The defaults follow
/// common edge proxies.
public struct HTTP1Limits: Sendable, Equatable {
  /// Longest request line; longer gets 414.
  public var maxRequestLineBytes = 8 * 1024
  /// Largest head (start line and header fields); larger gets 431.
  public var maxHeadBytes = 60 * 1024
  /// Most header fields in a head; more gets 431.
  public var maxFieldCount = 100
  /// Longest chunk-size line, extensions included; longer gets 400.
  public var maxChunkLineBytes = 4 * 1024
  /// Largest trailer section of a chunked body; larger gets 431.
  public var maxTrailerBytes = 16 * 1024
  /// How long a client may take from the first byte of a request to the end of its head; then 408 and
  /// the connection closes (slowloris).
  public var headerTimeout = TimeAmount.seconds(10)
  /// How long a client connection may sit with no request before it is closed.
  public var idleTimeout = TimeAmount.seconds(60)

  public init() {}

  /// For reading messages the gateway wrote itself (to turn them into HTTP/2 frames): what a peer sent
  /// was checked against the real limits, and the gateway's own fields must not tip it over them.
  static let ownMessages: HTTP1Limits = {
    var limits = HTTP1Limits()
    limits.maxRequestLineBytes = 1 << 20
    limits.maxHeadBytes = 1 << 20
    limits.maxFieldCount = 10_000
    limits.maxTrailerBytes = 1 << 20
    return limits
  }()
}
