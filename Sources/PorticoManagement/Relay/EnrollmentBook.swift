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

  func isRevoked(gateway: String) async -> Bool {
    guard let entries = try? await all() else { return true }
    return entries.contains { $0.gateway == gateway && $0.revoked }
  }

  /// Revokes every certificate of `gateway` and refuses its enrolment from now on; false when none was issued.
  public func revoke(gateway: String) async throws -> Bool {
    switch backing {
    case .file(let file):
      return try file.entries.withLock { entries in
        guard entries.contains(where: { $0.gateway == gateway }) else { return false }
        for index in entries.indices where entries[index].gateway == gateway { entries[index].revoked = true }
        try Self.save(entries, to: file.url)
        return true
      }
    case .etcd(let client):
      var found = false
      for var entry in try await all() where entry.gateway == gateway {
        found = true
        entry.revoked = true
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
