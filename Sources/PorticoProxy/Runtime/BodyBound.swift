import PorticoAPI

/// A bound on how much of a body the gateway keeps in memory at once. Every place that keeps body bytes
/// (waiting for an upstream connection, to replay on a retry, for a mirror, while a filter reads it whole)
/// states its bound with this type, so the limits are in one place.
struct BodyBound: Sendable, Hashable {
  let bytes: Int

  /// Kept while no upstream connection is ready (for a request, or a passed-through TLS connection); past
  /// it, reads from the client pause.
  static let pending = BodyBound(bytes: 1 << 20)
  /// Read and dropped after a local answer; past it the connection is closed instead.
  static let discard = BodyBound(bytes: 1 << 20)
  /// Kept to replay on a retry; a longer body makes the request one that is not retried.
  static let replay = BodyBound(bytes: 1 << 20)
  /// Kept for a mirror whose connection is not ready; past it the copy is abandoned.
  static let mirror = BodyBound(bytes: 1 << 20)
  /// Kept whole for a filter when the route sets no `maxRequestBodyBytes`.
  static let filter = BodyBound(bytes: 1 << 20)

  /// What a filter may keep on a route: its `maxRequestBodyBytes` when it sets one.
  init(route options: Policy) {
    let limit = Int(clamping: options.maxRequestBodyBytes ?? 0)
    bytes = limit > 0 ? limit : Self.filter.bytes
  }

  init(bytes: Int) { self.bytes = bytes }

  func isExceeded(by count: Int) -> Bool { count > bytes }
}
