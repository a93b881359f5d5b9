import AsyncHTTPClient
import NIOCore

/// The HTTP clients auth steps ask their backends with (a pass-through service, a JWKS endpoint): one per
/// connect timeout, shared by every step and event loop, never following redirects (an auth backend's
/// answer is its own, not a page it points to).
enum AuthHTTPClient {
  private static let clients = SharedByKey<Int64, HTTPClient>()

  static func client(connectTimeoutNanoseconds: Int64) -> HTTPClient {
    clients.value(for: connectTimeoutNanoseconds) {
      HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
          redirectConfiguration: .disallow,
          timeout: .init(connect: .nanoseconds(connectTimeoutNanoseconds))))
    }
  }
}
