import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PorticoManagement

/// Flags that say which management plane a command talks to.
struct PlaneFlags: ParsableArguments {
  @Option(help: "The management plane's API.")
  var server = "http://127.0.0.1:9900"

  @Option(name: .customLong("token-file"), help: "The admin token (default: the data folder's admin-token).")
  var tokenFile: String?

  @Option(name: .customLong("data-dir"), help: "The plane's data folder, where its admin token is.")
  var dataDirectory = "portico-mgmt"

  func client() throws -> PlaneClient {
    try PlaneClient(server: server, tokenFile: tokenFile, dataDirectory: dataDirectory)
  }
}

/// Flags that make `routes` and `explain` use what a connected gateway runs, as the plane sent it.
struct RunningGatewayFlags: ParsableArguments {
  @Option(help: "A management plane's API: use what the connected gateway --gateway runs, with its identity.")
  var server: String?

  @Option(name: .customLong("token-file"), help: "The admin token (default: the data folder's admin-token).")
  var tokenFile: String?

  @Option(name: .customLong("data-dir"), help: "The plane's data folder, where its admin token is.")
  var dataDirectory = "portico-mgmt"

  /// The gateway's identity and what it runs, or nil without `--server`.
  func runningGateway(_ gateway: GatewayIdentityFlags) async throws
    -> (identity: GatewayIdentity, snapshot: ResourceSnapshot)?
  {
    guard let server else { return nil }
    guard let name = gateway.name else { throw ValidationError("--server needs --gateway NAME") }
    let client = try PlaneClient(server: server, tokenFile: tokenFile, dataDirectory: dataDirectory)
    let namespace = gateway.details.namespace
    let cluster = gateway.details.cluster
    let answer = try await client.send(
      .GET, "/relay/v1/gateways/\(namespace)/\(name)/config?cluster=\(cluster)")
    guard answer.status == .ok,
      let running = try? JSONDecoder().decode(RunningConfiguration.self, from: answer.body)
    else {
      throw ValidationError("\(answer.message)")
    }
    printError(
      "gateway \(running.identity.displayName): plane generation \(running.snapshot.generation), as it runs it"
    )
    return (running.identity, running.snapshot.load())
  }
}

/// A small client of the plane's REST API.
struct PlaneClient {
  let server: String
  let token: String

  init(server: String, token: String) {
    self.server = server
    self.token = token
  }

  /// A client with the admin token from `tokenFile`, or from the data folder's `admin-token`.
  init(server: String, tokenFile: String?, dataDirectory: String) throws {
    let file = tokenFile ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("admin-token").path
    guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
      throw ValidationError("cannot read the admin token from \(file); give --token-file or --data-dir")
    }
    self.init(
      server: server.hasSuffix("/") ? String(server.dropLast()) : server,
      token: token.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  struct Answer {
    var status: HTTPResponseStatus
    var body: Data

    var json: Any? { try? JSONSerialization.jsonObject(with: body) }

    /// The message of a Kubernetes `Status` failure, or the body.
    var message: String {
      (json as? [String: Any])?["message"] as? String ?? String(decoding: body, as: UTF8.self)
    }
  }

  func send(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [])
    async throws -> Answer
  {
    var request = HTTPClientRequest(url: server + path)
    request.method = method
    request.headers.add(name: "authorization", value: "Bearer \(token)")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
      request.headers.add(name: "content-type", value: "application/yaml")
      request.body = .bytes(ByteBuffer(string: body))
    }
    let response: HTTPClientResponse
    do {
      response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    } catch {
      throw ValidationError("cannot reach the management plane at \(server): \(error)")
    }
    let bytes = try await response.body.collect(upTo: 64 << 20)
    return Answer(status: response.status, body: Data(bytes.readableBytesView))
  }
}
