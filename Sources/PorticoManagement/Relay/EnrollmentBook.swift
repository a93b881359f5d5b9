import Foundation
import Synchronization

/// The gateways the plane has issued client certificates to: a certificate whose serial is not here, or is
/// revoked, is refused. Kept in the data folder, or in etcd when the plane's replicas share it.
public final class EnrollmentBook: Sendable {
  public struct Entry: Codable, Sendable, Equatable {
    public var gateway: String
    public var serial: String
    public var enrolledAt: String
    public var revoked: Bool
    /// Set when the gateway was reinstated after this certificate was revoked: the certificate stays
    /// refused, but the identity may enrol again.
    public var reinstated: Bool? = nil
  }

  private final class FileEntries: Sendable {
    let url: URL
    let entries: Mutex<[Entry]>

    init(url: URL, entries: [Entry]) {
      self.url = url
      self.entries = Mutex(entries)
    }
  }

  private enum Backing: Sendable {
    case file(FileEntries)
    case etcd(EtcdClient)
  }

  private static let prefix = "/portico/enrollments/"
  private let backing: Backing

  public init(file: String) {
    let url = URL(fileURLWithPath: file)
    let data = try? Data(contentsOf: url)
    backing = .file(
      FileEntries(url: url, entries: data.flatMap { try? JSONDecoder().decode([Entry].self, from: $0) } ?? [])
    )
  }

  init(etcd: EtcdClient) { backing = .etcd(etcd) }

  public func all() async throws -> [Entry] {
    switch backing {
    case .file(let file): return file.entries.withLock { $0 }
    case .etcd(let client):
      return try await client.range(prefix: Self.prefix).items.compactMap {
        try? JSONDecoder().decode(Entry.self, from: $0.value)
      }
    }
  }

  func record(gateway: String, serial: String) async throws {
    let entry = Entry(
      gateway: gateway, serial: serial, enrolledAt: timestamp(),
      revoked: false)
    switch backing {
    case .file(let file):
      try file.entries.withLock { entries in
        entries.append(entry)
        try Self.save(entries, to: file.url)
      }
    case .etcd(let client):
      _ = try await client.put(Self.prefix + serial, try JSONEncoder().encode(entry), ifModifiedAt: nil)
    }
  }

  /// Whether `serial` was issued to `gateway` and is not revoked.
  func admits(gateway: String, serial: String) async -> Bool {
    guard let entries = try? await all() else { return false }
    return entries.contains { $0.gateway == gateway && $0.serial == serial && !$0.revoked }
  }

  /// Whether `gateway` may not enrol: one of its certificates is revoked and it was not reinstated since.
  func isRevoked(gateway: String) async -> Bool {
    guard let entries = try? await all() else { return true }
    return entries.contains { $0.gateway == gateway && $0.revoked && $0.reinstated != true }
  }

  /// Lets a revoked gateway enrol again with the bootstrap token; the certificates revoked stay refused.
  /// False when `gateway` has no revoked certificate.
  public func reinstate(gateway: String) async throws -> Bool {
    try await update(gateway: gateway, where: { $0.revoked && $0.reinstated != true }) {
      $0.reinstated = true
    }
  }

  /// Revokes every certificate of `gateway` and refuses its enrolment from now on; false when none was issued.
  public func revoke(gateway: String) async throws -> Bool {
    try await update(gateway: gateway, where: { _ in true }) {
      $0.revoked = true
      $0.reinstated = nil
    }
  }

  /// Changes the entries of `gateway` that `matching` picks; false when there were none.
  private func update(
    gateway: String, where matching: (Entry) -> Bool, _ change: (inout Entry) -> Void
  ) async throws -> Bool {
    switch backing {
    case .file(let file):
      return try file.entries.withLock { entries in
        var found = false
        for index in entries.indices where entries[index].gateway == gateway && matching(entries[index]) {
          found = true
          change(&entries[index])
        }
        if found { try Self.save(entries, to: file.url) }
        return found
      }
    case .etcd(let client):
      var found = false
      for var entry in try await all() where entry.gateway == gateway && matching(entry) {
        found = true
        change(&entry)
        _ = try await client.put(
          Self.prefix + entry.serial, try JSONEncoder().encode(entry), ifModifiedAt: nil)
      }
      return found
    }
  }

  private static func save(_ entries: [Entry], to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(entries).write(to: url, options: .atomic)
  }
}
