import CoreMetrics
import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where access log lines go. Each event loop formats its requests' lines into an `AccessLogLines` of its
/// own and hands them over in batches; the batches are written here, one write each, off the event loops.
public final class AccessLog: Sendable {
  public enum Destination: Sendable {
    case standardOutput
    case file(String)
    case disabled
  }

  private let queue = DispatchQueue(label: "portico.access-log")
  private let handle: FileHandle?
  /// Counts lines lost to a failed write (a closed pipe, a full disk) or to a reader too slow to keep up,
  /// when given.
  private let droppedLines: CoreMetrics.Counter?
  /// Bytes handed over and not yet written. Past `pendingLimit` (a reader that stopped reading holds the
  /// writer up), new batches are dropped and counted instead of queued, so memory stays bounded.
  private let pendingBytes = Atomic<Int>(0)
  private let pendingLimit: Int

  public init(
    _ destination: Destination, droppedLines: CoreMetrics.Counter? = nil, pendingLimit: Int = 16 << 20
  ) throws {
    self.droppedLines = droppedLines
    self.pendingLimit = pendingLimit
    switch destination {
    case .standardOutput:
      handle = FileHandle.standardOutput
    case .file(let path):
      // Appending (O_APPEND): each write lands at the file's end as it is then, so a log rotated by
      // truncation (logrotate's `copytruncate`) starts again from the top instead of growing a hole.
      let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else {
        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
      }
      handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    case .disabled:
      handle = nil
    }
  }

  var isEnabled: Bool { handle != nil }

  /// Writes whole lines, in the order batches arrive. A batch the file or pipe refuses, or one that finds
  /// too much still waiting, is dropped and its lines counted: a log reader that went away or stopped
  /// reading must not take the gateway with it.
  func write(_ lines: ByteBuffer) {
    guard let descriptor = handle?.fileDescriptor else { return }
    let size = lines.readableBytes
    guard pendingBytes.add(size, ordering: .relaxed).newValue <= pendingLimit else {
      pendingBytes.subtract(size, ordering: .relaxed)
      return drop(lines.readableBytesView[...])
    }
    queue.async { [self] in
      defer { pendingBytes.subtract(size, ordering: .relaxed) }
      lines.withUnsafeReadableBytes { bytes in
        var offset = 0
        while offset < bytes.count {
          let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
          if written > 0 {
            offset += written
          } else if written < 0, errno == EINTR {
            continue
          } else {
            return drop(bytes[offset...])
          }
        }
      }
    }
  }

  private func drop(_ bytes: some Collection<UInt8>) {
    droppedLines?.increment(by: bytes.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 })
  }

  /// Waits until every batch handed over so far has reached the file.
  public func flush() { queue.sync {} }
}

/// `write(2)`, which the class's own `write` would otherwise hide.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    Glibc.write(descriptor, bytes, count)
  #else
    Darwin.write(descriptor, bytes, count)
  #endif
}

/// Why a request did not simply go through, in Envoy's vocabulary.
enum ResponseFlag: String, Sendable {
  /// No virtual host serves the authority.
  case noHost = "NH"
  /// No route of the host matched.
  case noRoute = "NR"
  /// Connecting upstream failed.
  case upstreamConnectFailure = "UF"
  /// The upstream did not answer in time.
  case upstreamTimeout = "UT"
  /// No endpoint left to try (none configured, or all ejected).
  case noHealthyUpstream = "UH"
  /// The upstream connection closed before the response ended.
  case upstreamReset = "UC"
  /// The pool's pending-request limit was reached.
  case upstreamOverflow = "UO"
  /// The client went away first.
  case downstreamReset = "DC"
  /// The route stands in for broken configuration.
  case invalidRoute = "IR"
  /// `faultInjection` delayed the request.
  case delayInjected = "DI"
  /// `faultInjection` answered instead of the upstream.
  case faultInjected = "FI"
  /// External auth refused the request.
  case unauthorized = "UAEX"
  /// A rate limit refused the request.
  case rateLimited = "RL"
  /// The rate-limit counter store could not answer, and `denyOnFail` refused the request.
  case rateLimitServiceError = "RLSE"
  /// The request was retried as often as its route allows, or the retry budget was spent.
  case retryLimitExceeded = "URX"
  /// The client's request broke HTTP/1.1's rules and was refused.
  case downstreamProtocolError = "DPE"
  /// The upstream's response broke HTTP/1.1's rules.
  case upstreamProtocolError = "UPE"
  /// A WAF rule blocked the request (or its response).
  case wafBlocked = "WAF"
  /// The WAF's threads had more work waiting than their bound: refused with 503.
  case wafOverloaded = "WAFO"
}
