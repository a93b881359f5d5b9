import NIOCore
import PorticoTranslate

/// Where a passthrough chain sends connections, resolved for the data plane: weighted upstreams, how many
/// endpoints to try, and how long a silent connection stays open.
final class TCPForwardRuntime: Sendable {
  static let defaultIdleTimeout = TimeAmount.hours(1)

  struct Destination: Sendable {
    let name: String
    /// Nil when the configuration names no such upstream: it is never picked.
    let upstream: UpstreamRuntime?
    let weight: Int
  }

  let destinations: [Destination]
  let maxConnectAttempts: Int
  let idleTimeout: TimeAmount

  init(_ forward: TCPForward, upstreams: [String: UpstreamRuntime]) {
    destinations = forward.destinations.map {
      Destination(name: $0.upstream, upstream: upstreams[$0.upstream], weight: Int($0.weight))
    }
    maxConnectAttempts = forward.maxConnectAttempts
    switch forward.idleTimeout?.nanoseconds {
    case nil: idleTimeout = Self.defaultIdleTimeout
    // Zero turns the timeout off, as in Envoy.
    case 0: idleTimeout = .nanoseconds(.max)
    case let nanoseconds?: idleTimeout = .nanoseconds(nanoseconds)
    }
  }

  /// A destination chosen by weight among those with an upstream; nil when none can take a connection.
  func pickUpstream(random: inout LoopRandom) -> UpstreamRuntime? {
    let candidates = destinations.filter { $0.upstream != nil && $0.weight > 0 }
    let total = candidates.reduce(0) { $0 + $1.weight }
    guard total > 0 else { return nil }
    var point = random.next(below: total)
    for candidate in candidates {
      point -= candidate.weight
      if point < 0 { return candidate.upstream }
    }
    return candidates.last?.upstream
  }
}
