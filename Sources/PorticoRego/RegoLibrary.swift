import CRego
import Foundation
import Synchronization

/// rego-cpp's C API, loaded once per process from `PORTICO_REGO_LIBRARY` (a path to librego_shared.so) or,
/// when that is unset, from `librego_shared.so` wherever the dynamic linker finds it. The gateway runs
/// without it; only opaAuth steps need it, and they fail to compile (their routes answer as invalid) when it
/// cannot be loaded.
public enum RegoLibrary {
  /// The environment variable that names the library.
  public static let environmentVariable = "PORTICO_REGO_LIBRARY"

  /// The function table once loaded. A failed load is tried again by the next policy that compiles (the
  /// library may be installed, or the variable set, after the process started).
  static var api: Result<UnsafePointer<CRegoAPI>, RegoError> {
    loaded.withLock { table in
      if let table { return .success(table.pointer) }
      let path = ProcessInfo.processInfo.environment[environmentVariable] ?? "librego_shared.so"
      var message = [CChar](repeating: 0, count: 512)
      guard let api = crego_load(path, &message, message.count) else {
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .failure(
          RegoError(
            "rego-cpp could not be loaded (\(reason)); install it (PyPI's regopy ships librego_shared.so) and set \(environmentVariable) to the library's path"
          ))
      }
      table = FunctionTable(pointer: api)
      return .success(api)
    }
  }

  /// The library's functions: loaded once, never changed or freed after.
  private struct FunctionTable: @unchecked Sendable {
    let pointer: UnsafePointer<CRegoAPI>
  }

  private static let loaded = Mutex<FunctionTable?>(nil)

  /// Whether the library is there: opaAuth steps can run.
  public static var isAvailable: Bool {
    if case .success = api { return true }
    return false
  }
}

/// What went wrong compiling or evaluating a policy, with where, when rego-cpp says.
public struct RegoError: Error, Sendable, CustomStringConvertible {
  public let message: String
  /// The module the problem is in, and the line and column in it (from 1).
  public var module: String?
  public var line: Int?
  public var column: Int?

  init(_ message: String, module: String? = nil, line: Int? = nil, column: Int? = nil) {
    self.message = message
    self.module = module
    self.line = line
    self.column = column
  }

  public var description: String {
    guard let module else { return message }
    return "\(module)\(line.map { ":\($0)" } ?? "")\(column.map { ":\($0)" } ?? ""): \(message)"
  }
}
