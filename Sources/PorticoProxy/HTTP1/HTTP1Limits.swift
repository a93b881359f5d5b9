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
}
