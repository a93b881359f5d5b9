import NIOCore
import Synchronization

/// Work that other threads (the WAF's) hand back to one event loop, delivered in batches: the first message of a batch
/// schedules one task on the loop, and the messages posted before it runs go with it. Under load this
/// saves the loop a wake-up, and the WAF thread a context switch, per request.
final class LoopMailbox: Sendable {
  private let eventLoop: EventLoop
  private let messages = Mutex<[@Sendable () -> Void]>([])

  init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

  func post(_ message: @escaping @Sendable () -> Void) {
    let first = messages.withLock { messages in
      messages.append(message)
      return messages.count == 1
    }
    guard first else { return }
    eventLoop.execute { self.deliver() }
  }

  private func deliver() {
    let batch = messages.withLock { messages in
      var batch: [@Sendable () -> Void] = []
      swap(&batch, &messages)
      return batch
    }
    for message in batch { message() }
  }
}
