import NIOCore

/// What a gateway's WAF filters share: the threads their rules run on and the log their matches go to.
final class WAFServices: Sendable {
  let pool: WAFPool
  private let log: AccessLog?

  init(threads: Int, bound: Int, log: AccessLog?) {
    pool = WAFPool(threads: threads, bound: bound)
    self.log = log
  }

  /// One request's lines, each ending in a newline, written together.
  func write(_ lines: [String]) {
    guard let log, !lines.isEmpty else { return }
    var buffer = ByteBuffer()
    for line in lines {
      buffer.writeString(line)
      buffer.writeStaticString("\n")
    }
    log.write(buffer)
  }

  /// Flushes the log, so that a test (or a stopping gateway) reads every line written so far.
  func flush() { log?.flush() }
}
