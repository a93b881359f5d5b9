import Foundation

/// The plane's own files, made on first start and reused after: the admin token, the gateways' bootstrap
/// token, the relay CA (certificate and key) and the book of enrolled gateways.
public struct DataDirectory: Sendable {
  public let path: String

  public init(path: String) { self.path = path }

  public var adminTokenFile: String { file("admin-token") }
  public var bootstrapTokenFile: String { file("bootstrap-token") }
  public var relayCAFile: String { file("relay-ca.pem") }
  var relayCAKeyFile: String { file("relay-ca-key.pem") }
  public var enrollmentFile: String { file("gateways.json") }
  var registryFile: String { file("registry.json") }
  public var meshCAFile: String { file("mesh-ca.pem") }
  var meshCAKeyFile: String { file("mesh-ca-key.pem") }

  private func file(_ name: String) -> String { URL(fileURLWithPath: path).appendingPathComponent(name).path }

  /// Creates what is missing and reads it all.
  func prepare() throws -> (
    adminToken: String, bootstrapToken: String, authority: RelayAuthority, mesh: MeshAuthority
  ) {
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let admin = try token(at: adminTokenFile)
    let bootstrap = try token(at: bootstrapTokenFile)
    let authority: RelayAuthority
    if let certificate = try? String(contentsOfFile: relayCAFile, encoding: .utf8),
      let key = try? String(contentsOfFile: relayCAKeyFile, encoding: .utf8)
    {
      authority = try RelayAuthority(certificatePEM: certificate, keyPEM: key)
    } else {
      authority = try RelayAuthority.make()
      try write(authority.keyPEM, to: relayCAKeyFile, secret: true)
      try write(authority.certificatePEM, to: relayCAFile, secret: false)
    }
    let mesh: MeshAuthority
    if let certificate = try? String(contentsOfFile: meshCAFile, encoding: .utf8),
      let key = try? String(contentsOfFile: meshCAKeyFile, encoding: .utf8)
    {
      mesh = try MeshAuthority(certificatePEM: certificate, keyPEM: key)
    } else {
      mesh = try MeshAuthority.make()
      try write(mesh.keyPEM, to: meshCAKeyFile, secret: true)
      try write(mesh.certificatePEM, to: meshCAFile, secret: false)
    }
    return (admin, bootstrap, authority, mesh)
  }

  private func token(at file: String) throws -> String {
    if let existing = try? String(contentsOfFile: file, encoding: .utf8) {
      let token = existing.trimmingCharacters(in: .whitespacesAndNewlines)
      if !token.isEmpty { return token }
    }
    var generator = SystemRandomNumberGenerator()
    let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
      .joined()
    try write(token + "\n", to: file, secret: true)
    return token
  }

  private func write(_ text: String, to file: String, secret: Bool) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    if secret { try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file) }
  }
}

extension DataDirectory {
  /// The files replicas must agree on: the tokens and both CAs.
  var sharedFiles: [String] {
    [adminTokenFile, bootstrapTokenFile, relayCAFile, relayCAKeyFile, meshCAFile, meshCAKeyFile]
  }

  /// With replicas on etcd: the first replica to start writes its tokens and CAs to etcd (create-only), and
  /// every other replica takes them from there, so that they trust and are trusted alike without copying
  /// the folder. Whoever can read etcd can read these: keep etcd to the plane.
  func share(through client: EtcdClient) async throws {
    let prefix = "/portico/plane/"
    var missing: [String] = []
    for file in sharedFiles {
      let name = URL(fileURLWithPath: file).lastPathComponent
      if let stored = try await client.get(prefix + name) {
        try stored.value.write(to: URL(fileURLWithPath: file), options: .atomic)
        if name.hasSuffix("key.pem") || name.hasSuffix("token") {
          try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
      } else {
        missing.append(file)
      }
    }
    guard !missing.isEmpty else { return }
    _ = try prepare()
    for file in missing {
      let name = URL(fileURLWithPath: file).lastPathComponent
      let data = try Data(contentsOf: URL(fileURLWithPath: file))
      // Create-only: a replica that lost the race takes the winner's on its next start (and now).
      if try await client.put(prefix + name, data, ifModifiedAt: 0) == nil,
        let winner = try await client.get(prefix + name)
      {
        try winner.value.write(to: URL(fileURLWithPath: file), options: .atomic)
      }
    }
  }
}
