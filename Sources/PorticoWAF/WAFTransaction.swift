import CModSecurity
import Foundation

/// One request's pass through a rule set, phase by phase as ModSecurity runs them: connection and URI,
/// request headers (phase 1), request body (2), response headers (3), response body (4), logging (5).
/// After each phase, `intervention` says whether a disruptive rule fired. A transaction is used by one
/// thread at a time; it may move between threads from one phase to the next.
public final class WAFTransaction: @unchecked Sendable {
  // @unchecked: one thread at a time, handed over by whoever schedules its phases.
  private let handle: OpaquePointer
  private let messages = WAFMessages()
  /// Kept alive as long as the transaction reads it.
  public let rules: WAFRules

  /// `id` is the request's ID: ModSecurity logs it as `unique_id`.
  public init(rules: WAFRules, id: String) {
    self.rules = rules
    let context = Unmanaged.passUnretained(messages).toOpaque()
    handle = id.withCString { id in
      msc_new_transaction_with_id(
        WAFEngine.shared.handle, rules.handle, UnsafeMutablePointer(mutating: id), context)
    }
  }

  deinit { msc_transaction_cleanup(handle) }

  /// The lines rules have logged so far (ModSecurity's error-log format), taken: each is returned once.
  public func takeLogLines() -> [String] {
    defer { messages.lines.removeAll() }
    return messages.lines
  }

  public func connection(client: String, clientPort: Int, server: String, serverPort: Int) {
    msc_process_connection(handle, client, Int32(clientPort), server, Int32(serverPort))
  }

  /// The request line: the URI as sent (path and query), the method, the version (`1.1`, `2.0`).
  public func uri(_ uri: String, method: String, version: String) {
    msc_process_uri(handle, uri, method, version)
  }

  public func addRequestHeader(_ name: some StringProtocol, _ value: some StringProtocol) {
    Self.withBytes(name, value) { msc_add_n_request_header(handle, $0, $1, $2, $3) }
  }

  /// Phase 1.
  public func processRequestHeaders() -> WAFIntervention? {
    msc_process_request_headers(handle)
    return intervention()
  }

  public func appendRequestBody(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    msc_append_request_body(handle, base, bytes.count)
  }

  /// Phase 2 (runs also without a body: rules on the query's arguments live here).
  public func processRequestBody() -> WAFIntervention? {
    msc_process_request_body(handle)
    return intervention()
  }

  public func addResponseHeader(_ name: some StringProtocol, _ value: some StringProtocol) {
    Self.withBytes(name, value) { msc_add_n_response_header(handle, $0, $1, $2, $3) }
  }

  /// Phase 3; `version` as ModSecurity writes it (`HTTP 1.1`).
  public func processResponseHeaders(status: Int, version: String) -> WAFIntervention? {
    msc_process_response_headers(handle, Int32(status), version)
    return intervention()
  }

  public func appendResponseBody(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    msc_append_response_body(handle, base, bytes.count)
  }

  /// Phase 4.
  public func processResponseBody() -> WAFIntervention? {
    msc_process_response_body(handle)
    return intervention()
  }

  /// Phase 5: the audit log entry, when the audit engine takes this transaction. `status` is what the
  /// client got.
  public func processLogging(status: Int) {
    msc_update_status_code(handle, Int32(status))
    msc_process_logging(handle)
  }

  /// What a disruptive rule asked for, if one fired.
  private func intervention() -> WAFIntervention? {
    var found = ModSecurityIntervention(status: 200, pause: 0, url: nil, log: nil, disruptive: 0)
    let disruptive = msc_intervention(handle, &found) != 0
    defer {
      free(found.url)
      free(found.log)
    }
    guard disruptive else { return nil }
    return WAFIntervention(
      status: Int(found.status), redirect: found.url.map { String(cString: $0) },
      log: found.log.map { String(cString: $0) })
  }

  private static func withBytes(
    _ name: some StringProtocol, _ value: some StringProtocol,
    _ body: (UnsafePointer<UInt8>, Int, UnsafePointer<UInt8>, Int) -> Int32
  ) {
    withUTF8(name) { name, nameCount in
      withUTF8(value) { value, valueCount in _ = body(name, nameCount, value, valueCount) }
    }
  }

  /// `text`'s UTF-8 bytes, in place when it has contiguous storage; never a null pointer, as ModSecurity
  /// reads even an empty value's.
  private static func withUTF8(_ text: some StringProtocol, _ body: (UnsafePointer<UInt8>, Int) -> Void) {
    func pass(_ bytes: UnsafeBufferPointer<UInt8>) {
      guard let base = bytes.baseAddress else {
        var none: UInt8 = 0
        return withUnsafePointer(to: &none) { body($0, 0) }
      }
      body(base, bytes.count)
    }
    if text.utf8.withContiguousStorageIfAvailable(pass) == nil {
      var copy = String(text)
      copy.withUTF8(pass)
    }
  }
}

/// What a disruptive rule decided: answer with `status` (or redirect to `redirect`), and ModSecurity's
/// message for it.
public struct WAFIntervention: Sendable, Hashable {
  public let status: Int
  public let redirect: String?
  public let log: String?
}
