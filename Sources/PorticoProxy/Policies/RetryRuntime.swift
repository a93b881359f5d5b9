import NIOCore
import PorticoAPI

/// A route's `retries`, ready to apply: how many retries, each try's timeout, and the back-off between
/// tries (exponential from 25 ms, capped at 250 ms, with full jitter, as in Envoy).
struct RetryRuntime: Sendable {
  /// Retries, not counting the first try.
  let attempts: Int
  let perTryTimeout: TimeAmount?

  static let backoffBase = TimeAmount.milliseconds(25)
  static let backoffCap = TimeAmount.milliseconds(250)

  init?(_ policy: RetryPolicy?) {
    guard let policy, let attempts = policy.attempts, attempts > 0 else { return nil }
    self.attempts = Int(attempts)
    perTryTimeout = policy.perTryTimeout?.nanoseconds.map { .nanoseconds($0) }
  }

  /// Upstream statuses that are tried again (with connect failures, resets and per-try timeouts).
  static func retries(status: Int) -> Bool { status == 502 || status == 503 || status == 504 }

  /// How long to wait before retry number `retry` (1 for the first).
  static func backoff(retry: Int, random: inout LoopRandom) -> TimeAmount {
    let ceiling = min(backoffCap.nanoseconds, backoffBase.nanoseconds << min(retry - 1, 16))
    return .nanoseconds(Int64(random.next(below: Int(ceiling) + 1)))
  }
}

/// One request's progress through its tries: how many have started, the body kept to replay, and the
/// endpoints tried so far (a retry goes elsewhere when it can).
struct RetryProgress {
  private(set) var tries = 0
  private(set) var replay: [ByteBuffer] = []
  private var replayBytes = 0
  /// False once the body outgrew what is kept.
  private(set) var isReplayable = true
  private(set) var tried: [EndpointState] = []
  /// This request holds one of its upstream's in-flight retries.
  var holdsBudget = false

  /// The response has begun: nothing will be replayed any more.
  mutating func stopKeeping() {
    isReplayable = false
    replay = []
  }

  mutating func started(on endpoint: EndpointState) {
    tries += 1
    tried.append(endpoint)
  }

  /// The try under way is a retry, which sends `replay` once its connection is ready.
  var isRetrying: Bool { tries > 1 }

  mutating func keep(_ piece: ByteBuffer) {
    guard isReplayable else { return }
    replayBytes += piece.readableBytes
    if BodyBound.replay.isExceeded(by: replayBytes) {
      isReplayable = false
      replay = []
    } else {
      replay.append(piece)
    }
  }
}

/// Waits for a connection on behalf of one try of a request with retries: a connection that arrives
/// after its try has been given up goes back to its own pool, unused.
final class TryWaiter: ConnectionWaiter {
  private weak var exchange: Exchange?
  private let number: Int
  private let endpoint: EndpointState

  init(_ exchange: Exchange, try number: Int, endpoint: EndpointState) {
    self.exchange = exchange
    self.number = number
    self.endpoint = endpoint
  }

  func connectionReady(_ result: Result<UpstreamConnection, UpstreamFailure>) {
    guard let exchange, exchange.isAwaitingConnection(forTry: number) else {
      if case .success(let connection) = result { endpoint.pool.release(connection, reusable: true) }
      return
    }
    exchange.connectionReady(result)
  }
}

/// A try's own deadline, apart from the request's: the tracker calls back its exchange.
final class TryDeadline: DeadlineOwner {
  private weak var exchange: Exchange?

  init(_ exchange: Exchange) {
    self.exchange = exchange
  }

  func deadlinePassed() { exchange?.tryTimedOut() }
}
