import Foundation

/// An OpenLDAP server of a test's own, started on a free loopback port by the external-auth example's
/// `ldap/start-slapd.sh` (MDB database in a folder of the test's, `memberOf` overlay) and seeded with the
/// test's users and groups; killed at the end.
final class SlapdServer: @unchecked Sendable {
  static let suffix = "dc=example,dc=org"
  let port: Int
  private let directory: URL
  private let processID: pid_t

  /// Users (uid, password) under `ou=people`, and groups (cn, member uids) under `ou=groups`.
  init(users: [(String, String)], groups: [(String, [String])]) async throws {
    port = try await closedPort()
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("slapd-\(port)")
    try? FileManager.default.removeItem(at: directory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var entries = [
      "dn: \(Self.suffix)\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
      "dn: ou=people,\(Self.suffix)\nobjectClass: organizationalUnit\nou: people",
      "dn: ou=groups,\(Self.suffix)\nobjectClass: organizationalUnit\nou: groups",
    ]
    for (uid, password) in users {
      entries.append(
        "dn: uid=\(uid),ou=people,\(Self.suffix)\nobjectClass: inetOrgPerson\nuid: \(uid)\ncn: \(uid)\nsn: \(uid)\nuserPassword: \(password)"
      )
    }
    for (name, members) in groups {
      entries.append(
        "dn: cn=\(name),ou=groups,\(Self.suffix)\nobjectClass: groupOfNames\ncn: \(name)\n"
          + members.map { "member: uid=\($0),ou=people,\(Self.suffix)" }.joined(separator: "\n"))
    }
    let seed = directory.appendingPathComponent("seed.ldif")
    try entries.joined(separator: "\n\n").appending("\n").write(to: seed, atomically: true, encoding: .utf8)
    let output = try await Shell.runPolling(
      "SLAPD_DATA=\(directory.path)/data examples/external-auth/ldap/start-slapd.sh \(port) \(seed.path)")
    processID = pid_t(output.split(separator: "\n").last.flatMap { Int32($0) } ?? 0)
  }

  private static func isRunning(_ process: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
  }

  static func groupDN(_ name: String) -> String { "cn=\(name),ou=groups,\(suffix)" }

  /// SIGKILL (a crash, as far as clients can tell), then the files go.
  func stop() async {
    if processID > 0, kill(processID, SIGKILL) == 0 {
      // slapd is not this process's child, and may stay a zombie nobody reaps: gone means no longer running.
      for _ in 0..<250 where Self.isRunning(processID) { try? await Task.sleep(for: .milliseconds(20)) }
    }
    try? FileManager.default.removeItem(at: directory)
  }
}
