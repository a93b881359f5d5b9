import Foundation

/// A gateway's cache folder: the last snapshot it applied and its relay credentials, so that it serves and
/// reconnects after a restart while the plane is away.
public struct SnapshotCache: Sendable {
  public let directory: URL

  public init(directory: String) {
    self.directory = URL(fileURLWithPath: directory)
  }

  private var snapshotFile: URL { directory.appendingPathComponent("snapshot.json") }
  var certificateFile: URL { directory.appendingPathComponent("relay-client.pem") }
  var keyFile: URL { directory.appendingPathComponent("relay-client-key.pem") }

  /// The last snapshot applied, or nil when there is none (or it cannot be read).
  public func snapshot() -> ShippedSnapshot? {
    guard let data = try? Data(contentsOf: snapshotFile) else { return nil }
    return try? JSONDecoder().decode(ShippedSnapshot.self, from: data)
  }

  /// Replaces the cached snapshot atomically: a crash leaves the old one or the new one, never half of one.
  public func save(_ snapshot: ShippedSnapshot) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(snapshot).write(to: snapshotFile, options: .atomic)
  }

  func credentials() -> RelayCredentials? {
    guard let certificate = try? String(contentsOf: certificateFile, encoding: .utf8),
      let key = try? String(contentsOf: keyFile, encoding: .utf8)
    else { return nil }
    return try? RelayCredentials(certificatePEM: certificate, keyPEM: key)
  }

  func save(_ credentials: RelayCredentials) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try Data(credentials.keyPEM.utf8).write(to: keyFile, options: .atomic)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
    try Data(credentials.certificatePEM.utf8).write(to: certificateFile, options: .atomic)
  }

  func forgetCredentials() {
    try? FileManager.default.removeItem(at: certificateFile)
    try? FileManager.default.removeItem(at: keyFile)
  }
}
