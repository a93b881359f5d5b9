import CModSecurity

/// The process's one ModSecurity instance. Every message a rule logs (ModSecurity's error-log line, with
/// its `[file] [line] [id] [msg] [data] [severity] [uri] [unique_id]` fields) reaches the transaction that
/// produced it, through the context each transaction registers.
final class WAFEngine: @unchecked Sendable {
  // @unchecked: ModSecurity's instance is set up once here and only read by transactions after.
  static let shared = WAFEngine()

  let handle: OpaquePointer

  private init() {
    handle = msc_init()
    msc_set_connector_info(handle, "Portico")
    msc_set_log_cb(handle) { context, message in
      guard let context, let message else { return }
      let messages = Unmanaged<WAFMessages>.fromOpaque(context).takeUnretainedValue()
      messages.lines.append(String(cString: message.assumingMemoryBound(to: CChar.self)))
    }
  }
}

/// The log lines of one transaction, in the order its rules matched.
final class WAFMessages {
  var lines: [String] = []
}
