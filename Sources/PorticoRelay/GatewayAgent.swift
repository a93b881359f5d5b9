import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Synchronization

/// What a gateway does with a snapshot the plane sends.
public protocol SnapshotApplier: Sendable {
  /// Serves `snapshot`; returns nil when it is served, or why it was refused. A first snapshot (nothing served
  /// yet) serves what is valid in it; a later one is refused when it adds errors.
  func apply(_ snapshot: ResourceSnapshot, first: Bool) async -> [String]?
}

/// The gateway's end of the relay: enrols with the bootstrap token when it has no client certificate, holds
/// the stream to the plane, applies each snapshot and answers for it, caches what it applied, and reconnects
/// with capped, jittered back-off when the plane goes away. The gateway keeps serving throughout.
public final class GatewayAgent: Sendable {
  public struct Options: Sendable {
    public var link: RelayLink
    public var initialBackoff: Duration = .milliseconds(200)
    public var maximumBackoff: Duration = .seconds(10)

    public init(link: RelayLink) { self.link = link }
  }

  /// Where the agent stands, for logs and the admin endpoint.
  public struct State: Sendable, Equatable {
    public var connected = false
    /// The plane generation served (0: none yet).
    public var generation: Int64 = 0
    public var lastError: String?
  }

  public let options: Options
  private let applier: any SnapshotApplier
  private let logger: Logger
  private let served: Mutex<ShippedSnapshot>
  private let stateBox = Mutex(State())
  /// What the last snapshot's documents parsed to, so that a change re-reads only what changed.
  private let documents = DocumentCache()

  public init(options: Options, applier: any SnapshotApplier, logger: Logger) {
    self.options = options
    self.applier = applier
    self.logger = logger
    served = Mutex(options.link.cache.snapshot() ?? ShippedSnapshot())
    stateBox.withLock { $0.generation = served.withLock { $0.generation } }
  }

  public var state: State { stateBox.withLock { $0 } }

  /// The cached snapshot the gateway starts with (empty when there is none).
  public var cachedSnapshot: ResourceSnapshot { served.withLock { $0 }.load() }

  /// Runs until cancelled.
  public func run() async {
    var backoff = Backoff(initial: options.initialBackoff, maximum: options.maximumBackoff)
    while !Task.isCancelled {
      do {
        let credentials = try await options.link.credentials(logger: logger)
        try await connect(with: credentials)
        record(error: "the plane closed the stream")
      } catch let error as RPCError where error.code == .unauthenticated || error.code == .permissionDenied {
        // A certificate the plane no longer knows is dropped, so that the next attempt enrols afresh.
        options.link.forgetCredentials()
        record(error: "refused by the plane: \(error.message)")
      } catch is CancellationError {
        break
      } catch {
        record(error: "\(error)")
      }
      // A stream that got as far as a snapshot starts the back-off over; a plane that failed is left for
      // the next replica at once.
      if stateBox.withLock({ $0.connected }) { backoff.reset() }
      if options.link.planes.count > 1 {
        options.link.rotate()
        if stateBox.withLock({ $0.connected }) {
          stateBox.withLock { $0.connected = false }
          continue
        }
      }
      stateBox.withLock { $0.connected = false }
      await backoff.wait()
    }
  }

  private func record(error: String) {
    stateBox.withLock { $0.lastError = error }
    logger.warning("relay: \(error)", metadata: ["plane": "\(options.link.address)"])
  }

  // MARK: - The stream

  private func connect(with credentials: RelayCredentials) async throws {
    let (answers, answer) = AsyncStream.makeStream(of: Portico_Relay_V1_GatewayMessage.self)
    let hello = Portico_Relay_V1_GatewayMessage.with { message in
      let snapshot = served.withLock { $0 }
      message.hello = .with {
        $0.identity = options.link.identity.message
        $0.generation = snapshot.generation
        $0.serving = snapshot.digests.sorted { $0.key < $1.key }.map { key, digest in
          .with {
            $0.key = key
            $0.digest = digest
          }
        }
      }
    }
    try await options.link.withClient(presenting: credentials) { relay in
      try await relay.connect(
        requestProducer: { writer in
          try await writer.write(hello)
          for await message in answers { try await writer.write(message) }
        },
        onResponse: { response in
          defer { answer.finish() }
          for try await message in response.messages {
            guard case .snapshot(let change)? = message.kind else { continue }
            self.stateBox.withLock {
              $0.connected = true
              $0.lastError = nil
            }
            let (reply, applied) = await self.apply(change)
            answer.yield(reply)
            // Acknowledged first: the gateway serves the generation once applied; the cache is for restarts.
            if let applied { self.cache(applied) }
          }
        })
    }
  }

  /// Applies a change; the reply for the plane, and the snapshot now served when it was applied.
  private func apply(
    _ change: Portico_Relay_V1_Snapshot
  ) async -> (Portico_Relay_V1_GatewayMessage, ShippedSnapshot?) {
    let started = ContinuousClock.now
    let current = served.withLock { $0 }
    let next = current.applying(change)
    let loaded = next.load(cache: documents)
    let parsed = ContinuousClock.now
    let refusal = await applier.apply(loaded, first: current.generation == 0 && current.manifests.isEmpty)
    let applied = ContinuousClock.now
    if let refusal {
      logger.error(
        "relay: refused generation \(change.generation)",
        metadata: ["errors": "\(refusal.joined(separator: "; "))"])
      let nack = Portico_Relay_V1_GatewayMessage.with {
        $0.nack = .with {
          $0.generation = change.generation
          $0.errors = refusal
        }
      }
      return (nack, nil)
    }
    served.withLock { $0 = next }
    stateBox.withLock { $0.generation = next.generation }
    logger.info(
      "relay: applied generation \(next.generation)",
      metadata: [
        "manifests": "\(next.manifests.count)", "changed": "\(change.upserts.count + change.removals.count)",
        "load_ms": "\(Self.milliseconds(parsed - started))",
        "apply_ms": "\(Self.milliseconds(applied - parsed))",
      ])
    return (.with { $0.ack = .with { $0.generation = change.generation } }, next)
  }

  private func cache(_ snapshot: ShippedSnapshot) {
    do {
      try options.link.cache.save(snapshot)
    } catch {
      logger.warning("relay: cannot write the snapshot cache: \(error)")
    }
  }

  private static func milliseconds(_ duration: Duration) -> String {
    String(
      format: "%.1f",
      Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
  }
}
