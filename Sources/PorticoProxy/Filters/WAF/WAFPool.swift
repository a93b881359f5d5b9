import NIOPosix
import Synchronization

/// Where WAF rules are evaluated: a fixed set of threads of the gateway's own, off the event loops, with a
/// bound on the work waiting for them. Past the bound a request is refused (503) rather than queued
/// without end, so that a flood on WAF routes cannot stall the gateway's other routes. The threads start
/// when the first WAF request comes.
final class WAFPool: Sendable {
  private let pool: NIOThreadPool
  /// Jobs submitted and not finished.
  private let pending = Atomic<Int>(0)
  private let started = Atomic<Bool>(false)
  private let starting = Mutex(())
  let bound: Int

  init(threads: Int, bound: Int) {
    pool = NIOThreadPool(numberOfThreads: max(1, threads))
    self.bound = max(1, bound)
  }

  /// Runs `work` on a pool thread (with false if the pool is stopping: the work is not to be done); false
  /// (and nothing runs) when `bound` jobs are already waiting or running.
  func submit(_ work: @escaping @Sendable (_ active: Bool) -> Void) -> Bool {
    guard pending.add(1, ordering: .relaxed).newValue <= bound else {
      pending.subtract(1, ordering: .relaxed)
      return false
    }
    if !started.load(ordering: .acquiring) {
      starting.withLock { _ in
        guard !started.load(ordering: .acquiring) else { return }
        pool.start()
        started.store(true, ordering: .releasing)
      }
    }
    pool.submit { state in
      defer { self.pending.subtract(1, ordering: .relaxed) }
      work(state == .active)
    }
    return true
  }

  func stop() async {
    let wasStarted = starting.withLock { _ in started.exchange(true, ordering: .acquiringAndReleasing) }
    guard wasStarted else { return }
    try? await pool.shutdownGracefully()
  }
}
