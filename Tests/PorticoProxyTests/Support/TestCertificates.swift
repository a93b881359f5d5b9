import Foundation
import NIOSSL

/// A throwaway CA and certificates made with the openssl command for TLS tests, valid for two days.
struct TestCertificates {
  let directory: URL

  init() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "portico-certs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try run(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Portico Test CA'"
    )
  }

  /// Makes `NAME.pem` and `NAME.key`, signed by the CA, with these subject alternative names
  /// (`DNS:a.test`, `URI:spiffe://x`).
  func issue(_ name: String, commonName: String, altNames: [String]) throws {
    let ext = "subjectAltName=" + altNames.joined(separator: ",")
    try ext.write(to: directory.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
    try run(
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \(name).key -out \(name).csr -subj '/CN=\(commonName)'"
        + " && openssl x509 -req -in \(name).csr -CA ca.pem -CAkey ca.key -CAcreateserial -out \(name).pem -days 2 -extfile \(name).ext"
    )
  }

  func path(_ file: String) -> String { directory.appendingPathComponent(file).path }

  /// A server context presenting `NAME`'s certificate, offering `alpn` (nothing when empty).
  func serverContext(_ name: String, alpn: [String] = []) throws -> NIOSSLContext {
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: try NIOSSLCertificate.fromPEMFile(path("\(name).pem")).map { .certificate($0) },
      privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(text("\(name).key").utf8), format: .pem)))
    configuration.applicationProtocols = alpn
    return try NIOSSLContext(configuration: configuration)
  }

  func text(_ file: String) throws -> String { try String(contentsOfFile: path(file), encoding: .utf8) }

  /// A `kubernetes.io/tls` Secret manifest holding `NAME`'s certificate and key (and the CA, if asked).
  func secret(_ secretName: String, namespace: String, certificate name: String, includeCA: Bool = false)
    throws
    -> String
  {
    func block(_ text: String) -> String {
      text.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
    }
    var manifest = """
      apiVersion: v1
      kind: Secret
      metadata: {name: \(secretName), namespace: \(namespace)}
      type: kubernetes.io/tls
      stringData:
        tls.crt: |
      \(block(try text("\(name).pem")))
        tls.key: |
      \(block(try text("\(name).key")))

      """
    if includeCA {
      manifest += """
          ca.crt: |
        \(block(try text("ca.pem")))

        """
    }
    return manifest + "---\n"
  }

  func remove() { try? FileManager.default.removeItem(at: directory) }

  @discardableResult
  func run(_ command: String) throws -> String {
    try Shell.run(command, in: directory)
  }
}

/// Runs a shell command and returns its standard output; throws with its output when it fails.
enum Shell {
  struct Failure: Error, CustomStringConvertible {
    let status: Int32
    let output: String
    var description: String { "exit \(status): \(output)" }
  }

  @discardableResult
  static func run(_ command: String, in directory: URL? = nil, allowFailure: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = String(decoding: data, as: UTF8.self)
    if process.terminationStatus != 0, !allowFailure {
      throw Failure(status: process.terminationStatus, output: output)
    }
    return output
  }
}
