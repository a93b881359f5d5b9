import Foundation
import GRDB

/// The embedded store: one SQLite file, written by one plane process.
public final class SQLiteStore: ResourceStore {
  private let database: DatabaseQueue

  public init(path: String) throws {
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    database = try DatabaseQueue(path: path)
    try database.write { db in
      try db.execute(
        sql: """
          CREATE TABLE IF NOT EXISTS objects (
            kind TEXT NOT NULL, cluster TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
            source TEXT NOT NULL, first_line INTEGER NOT NULL, text TEXT NOT NULL,
            generation INTEGER NOT NULL, resource_version TEXT NOT NULL, created TEXT NOT NULL, uid TEXT NOT NULL,
            PRIMARY KEY (kind, cluster, namespace, name));
          CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
          INSERT OR IGNORE INTO revision (id, value) VALUES (1, 0);
          """)
    }
  }

  public var readOnlyReason: String? { nil }

  public func load() async throws -> (objects: [StoredObject], revision: Int64) {
    try await database.read { db in
      let objects = try Row.fetchAll(db, sql: "SELECT * FROM objects ORDER BY kind, cluster, namespace, name")
        .compactMap(Self.object(from:))
      let revision = try Int64.fetchOne(db, sql: "SELECT value FROM revision WHERE id = 1") ?? 0
      return (objects, revision)
    }
  }

  public func put(_ id: ResourceID, document: ManifestDocument, expectedVersion: String?) async throws
    -> StoredObject
  {
    try await database.write { db in
      let previous = try Self.fetch(id, db)
      try Self.check(id, expected: expectedVersion, against: previous)
      if let previous, previous.document == document { return previous }
      let revision = try Self.nextRevision(db)
      let stamp = nextStamp(previous: previous, document: document, revision: revision)
      try db.execute(
        sql: """
          INSERT OR REPLACE INTO objects
            (kind, cluster, namespace, name, source, first_line, text, generation, resource_version, created, uid)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          id.kind.rawValue, id.cluster ?? "", id.namespace, id.name, document.source, document.firstLine,
          document.text, stamp.generation, stamp.resourceVersion, stamp.creationTimestamp, stamp.uid,
        ])
      return StoredObject(id: id, document: document, stamp: stamp)
    }
  }

  public func delete(_ id: ResourceID, expectedVersion: String?) async throws -> StoredObject {
    try await database.write { db in
      guard let previous = try Self.fetch(id, db) else { throw StoreError.notFound(id) }
      try Self.check(id, expected: expectedVersion, against: previous)
      _ = try Self.nextRevision(db)
      try db.execute(
        sql: "DELETE FROM objects WHERE kind = ? AND cluster = ? AND namespace = ? AND name = ?",
        arguments: [id.kind.rawValue, id.cluster ?? "", id.namespace, id.name])
      return previous
    }
  }

  public func externalChanges() -> AsyncStream<Void> { AsyncStream { $0.finish() } }

  private static func nextRevision(_ db: Database) throws -> Int64 {
    try db.execute(sql: "UPDATE revision SET value = value + 1 WHERE id = 1")
    return try Int64.fetchOne(db, sql: "SELECT value FROM revision WHERE id = 1") ?? 0
  }

  private static func fetch(_ id: ResourceID, _ db: Database) throws -> StoredObject? {
    try Row.fetchOne(
      db, sql: "SELECT * FROM objects WHERE kind = ? AND cluster = ? AND namespace = ? AND name = ?",
      arguments: [id.kind.rawValue, id.cluster ?? "", id.namespace, id.name]
    ).flatMap(object(from:))
  }

  private static func object(from row: Row) -> StoredObject? {
    guard let kind = ResourceKind(rawValue: row["kind"]) else { return nil }
    let cluster: String = row["cluster"]
    return StoredObject(
      id: ResourceID(
        kind, namespace: row["namespace"], name: row["name"], cluster: cluster.isEmpty ? nil : cluster),
      document: ManifestDocument(source: row["source"], firstLine: row["first_line"], text: row["text"]),
      stamp: ObjectStamp(
        generation: row["generation"], resourceVersion: row["resource_version"],
        creationTimestamp: row["created"],
        uid: row["uid"]))
  }
}
