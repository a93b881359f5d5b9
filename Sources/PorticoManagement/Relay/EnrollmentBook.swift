import Foundation
import Synchronization

/// The gateways the plane has issued client certificates to, kept in the data folder: a certificate whose
/// serial is not here, or is revoked, is refused.
public final class EnrollmentBook: Sendable {
  public struct Entry: Codable, Sendable, Equatable {
    public var gateway: String
    public var serial: String
    public var enrolledAt: String
    public var revoked: Bool
  }

  private let file: URL
  private let entries: Mutex<[Entry]>

  public init(file: String) {
    self.file = URL(fileURLWithPath: file)
    let data = try? Data(contentsOf: self.file)
    entries = Mutex(data.flatMap { try? JSONDecoder().decode([Entry].self, from: $0) } ?? [])
  }

  public var all: [Entry] { entries.withLock { $0 } }

  func record(gateway: String, serial: String) throws {
    let now = ISO8601DateFormatter().string(from: Date())
    try entries.withLock { entries in
      entries.append(Entry(gateway: gateway, serial: serial, enrolledAt: now, revoked: false))
      try save(entries)
    }
  }

  /// Whether `serial` was issued to `gateway` and is not revoked.
  func admits(gateway: String, serial: String) -> Bool {
    entries.withLock { $0.contains { $0.gateway == gateway && $0.serial == serial && !$0.revoked } }
  }

  func isRevoked(gateway: String) -> Bool {
    entries.withLock { $0.contains { $0.gateway == gateway && $0.revoked } }
  }

  /// Revokes every certificate of `gateway` and refuses its enrolment from now on; false when none was issued.
  public func revoke(gateway: String) throws -> Bool {
    try entries.withLock { entries in
      guard entries.contains(where: { $0.gateway == gateway }) else { return false }
      for index in entries.indices where entries[index].gateway == gateway { entries[index].revoked = true }
      try save(entries)
      return true
    }
  }

  private func save(_ entries: [Entry]) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(entries).write(to: file, options: .atomic)
  }
}
