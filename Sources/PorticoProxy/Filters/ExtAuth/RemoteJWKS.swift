import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Keys a JWT provider fetches from a URL (`jwks.remote`), shared by every route and event loop that uses
/// the same URL and cache duration. A set is kept for `cacheSeconds`; after that, or when a token names a
/// key the set lacks, the next request fetches it again, at most once a second (`refetchInterval`), and
/// the requests that need it meanwhile wait for the one fetch (with a set in hand, only those whose token
/// names a key it lacks wait; the others go on with it). A fetch that fails keeps the last set.
final class RemoteJWKS: Sendable {
  let url: String
  let cacheSeconds: Int64
  /// The least time between two fetches of one URL, whatever tokens arrive.
  static let refetchInterval: Int64 = 1

  private struct State {
    var keys: JWTKeySet?
    /// Counts the sets fetched: a token remembered under an older one is checked again.
    var generation = 0
    // Long ago, without overflowing when subtracted from now.
    var fetchedAt = Int64.min / 2
    var lastAttempt = Int64.min / 2
    var waiters: [@Sendable () -> Void] = []
    var fetching = false
  }

  private let state = Mutex(State())

  private init(url: String, cacheSeconds: Int64) {
    self.url = url
    self.cacheSeconds = cacheSeconds
  }

  /// The one set for `url` and `cacheSeconds` in this process.
  static func shared(url: String, cacheSeconds: Int64) -> RemoteJWKS {
    registry.value(for: "\(cacheSeconds) \(url)") { RemoteJWKS(url: url, cacheSeconds: cacheSeconds) }
  }

  private static let registry = SharedByKey<String, RemoteJWKS>()

  /// The keys as last fetched (nil before the first fetch succeeds), and their generation.
  func current() -> (keys: JWTKeySet?, generation: Int) {
    state.withLock { ($0.keys, $0.generation) }
  }

  /// Whether the set should be fetched now: it is missing or older than `cacheSeconds` (or `unknownKey`: a
  /// token names a key it lacks), and no fetch was tried in the last `refetchInterval`.
  func wantsFetch(at now: Int64, unknownKey: Bool = false) -> Bool {
    state.withLock { state in
      guard now - state.lastAttempt >= Self.refetchInterval || state.fetching else { return false }
      return state.keys == nil || unknownKey || now - state.fetchedAt >= cacheSeconds
    }
  }

  /// Fetches the set (or joins the fetch under way) and calls `done` when it has ended, however it ended.
  func refresh(at now: Int64, timeout: TimeAmount, _ done: @escaping @Sendable () -> Void) {
    let starts = state.withLock { state in
      state.waiters.append(done)
      guard !state.fetching else { return false }
      state.fetching = true
      state.lastAttempt = now
      return true
    }
    guard starts else { return }
    let client = AuthHTTPClient.client(connectTimeoutNanoseconds: 1_000_000_000)
    client.get(url: url, deadline: .now() + timeout).whenComplete { result in
      var fetched: JWTKeySet?
      if case .success(let response) = result, (200..<300).contains(response.status.code),
        let body = response.body
      {
        let set = JWTKeySet(String(buffer: body))
        if !set.keys.isEmpty { fetched = set }
      }
      let waiters = self.state.withLock { state in
        if let fetched {
          state.keys = fetched
          state.generation += 1
          state.fetchedAt = Int64(Date().timeIntervalSince1970)
        }
        state.fetching = false
        defer { state.waiters = [] }
        return state.waiters
      }
      for waiter in waiters { waiter() }
    }
  }
}
