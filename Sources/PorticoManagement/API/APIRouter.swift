import Foundation
import NIOCore
import NIOHTTP1

/// A request the API has read in full.
struct APIRequest: Sendable {
  var method: HTTPMethod
  var path: String
  var query: [String: String]
  var headers: HTTPHeaders
  var body: ByteBuffer
}

/// What the API answers: a body at once, or a stream of lines (a watch).
struct APIResponse: Sendable {
  var status: HTTPResponseStatus
  var contentType = "application/json"
  var body: Data = Data()
  var stream: AsyncStream<Data>?
  var extraHeaders: [(String, String)] = []

  static func json(_ status: HTTPResponseStatus, _ value: Any) -> APIResponse {
    APIResponse(status: status, body: ManifestJSON.encode(value) + Data("\n".utf8))
  }

  /// A Kubernetes-style `Status` failure.
  static func failure(
    _ status: HTTPResponseStatus, reason: String, _ message: String, causes: [[String: Any]] = []
  )
    -> APIResponse
  {
    var object: [String: Any] = [
      "apiVersion": "v1", "kind": "Status", "status": "Failure", "code": Int(status.code), "reason": reason,
      "message": message,
    ]
    if !causes.isEmpty { object["details"] = ["causes": causes] }
    return json(status, object)
  }
}

/// The plane's REST API, shaped as Kubernetes': `/apis/GROUP/VERSION/namespaces/NS/PLURAL[/NAME[/status]]`
/// (core kinds under `/api/v1`), lists, watches, and the relay's gateways. Every call but `/healthz` needs
/// the admin token as a bearer token.
struct APIRouter: Sendable {
  let plane: ManagementPlane
  let adminToken: String
  let book: EnrollmentBook
  let metrics: PlaneMetrics

  func handle(_ request: APIRequest) async -> APIResponse {
    let parts = request.path.split(separator: "/").map(String.init)
    if parts == ["healthz"] {
      return APIResponse(status: .ok, contentType: "text/plain", body: Data("ok\n".utf8))
    }
    let isPage = parts.isEmpty || parts == ["ui"]
    guard authorized(request.headers) else {
      if isPage {
        // A browser asks for a user name and password: any name, and the admin token as the password.
        var answer = APIResponse(
          status: .unauthorized, contentType: "text/plain",
          body: Data("the admin token is the password\n".utf8))
        answer.extraHeaders = [("www-authenticate", "Basic realm=\"portico\"")]
        return answer
      }
      return .failure(
        .unauthorized, reason: "Unauthorized",
        "the API needs the admin token as 'Authorization: Bearer TOKEN'")
    }
    if isPage { return await page() }
    switch parts.first {
    case "apis", "api": return await resources(request, parts)
    case "relay": return await relay(request, Array(parts.dropFirst()))
    case "metrics":
      return APIResponse(
        status: .ok, contentType: "text/plain; version=0.0.4",
        body: Data(await metrics.exposition(plane).utf8))
    default: return .failure(.notFound, reason: "NotFound", "no such path: \(request.path)")
    }
  }

  private func page() async -> APIResponse {
    var resources: [(StoredObject, ResourceStatus?)] = []
    for object in await plane.allObjects { resources.append((object, await plane.acceptance(of: object.id))) }
    let html = StatusPage.html(
      generation: await plane.revision, gateways: await plane.allGatewayRecords(),
      agents: await plane.agentRecords, resources: resources)
    return APIResponse(status: .ok, contentType: "text/html; charset=utf-8", body: Data(html.utf8))
  }

  /// The admin token as a bearer token, or as the password of HTTP Basic authentication (for browsers).
  private func authorized(_ headers: HTTPHeaders) -> Bool {
    guard let value = headers.first(name: "authorization") else { return false }
    let lowered = value.lowercased()
    if lowered.hasPrefix("bearer ") {
      return Secrets.equal(String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces), adminToken)
    }
    guard lowered.hasPrefix("basic "),
      let decoded = Data(base64Encoded: String(value.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
      let credentials = String(data: decoded, encoding: .utf8), let colon = credentials.firstIndex(of: ":")
    else { return false }
    return Secrets.equal(String(credentials[credentials.index(after: colon)...]), adminToken)
  }

  // MARK: - Resources

  /// A parsed resource path.
  private struct Target {
    var kind: ResourceKind
    var namespace: String?
    var name: String?
    var subresource: String?
  }

  private func target(_ parts: [String]) -> Result<Target, APIResponseError> {
    // apis/GROUP/VERSION/... or api/v1/...
    let groupVersion: String
    var rest: ArraySlice<String>
    if parts.first == "api", parts.count >= 2 {
      groupVersion = parts[1]
      rest = parts.dropFirst(2)
    } else if parts.first == "apis", parts.count >= 3 {
      groupVersion = "\(parts[1])/\(parts[2])"
      rest = parts.dropFirst(3)
    } else {
      return .failure(.init(.notFound, "no such path"))
    }
    var namespace: String?
    if rest.first == "namespaces", rest.count >= 3 {
      namespace = rest.dropFirst().first
      rest = rest.dropFirst(2)
    }
    guard let plural = rest.first,
      let kind = ResourceKind.allCases.first(where: { KindCatalog.plural(of: $0) == plural })
    else {
      return .failure(.init(.notFound, "no such resource type: \(rest.first ?? "")"))
    }
    guard kind.apiVersions.contains(groupVersion) else {
      return .failure(
        .init(
          .notFound,
          "\(kind.rawValue) is not served by \(groupVersion); use \(kind.apiVersions.joined(separator: " or "))"
        ))
    }
    rest = rest.dropFirst()
    let name = rest.first
    let subresource = rest.dropFirst().first
    guard rest.count <= 2, subresource == nil || subresource == "status" else {
      return .failure(.init(.notFound, "no such subresource"))
    }
    if name != nil && namespace == nil {
      return .failure(.init(.notFound, "a named resource needs its namespace"))
    }
    return .success(Target(kind: kind, namespace: namespace, name: name, subresource: subresource))
  }

  struct APIResponseError: Error {
    var status: HTTPResponseStatus
    var message: String
    init(_ status: HTTPResponseStatus, _ message: String) {
      self.status = status
      self.message = message
    }
  }

  private func resources(_ request: APIRequest, _ parts: [String]) async -> APIResponse {
    let target: Target
    switch self.target(parts) {
    case .success(let found): target = found
    case .failure(let error): return .failure(error.status, reason: "NotFound", error.message)
    }
    let cluster = request.query["cluster"].flatMap { $0.isEmpty ? nil : $0 }
    guard let name = target.name, let namespace = target.namespace else {
      switch request.method {
      case .GET:
        return request.query["watch"] == "true" || request.query["watch"] == "1"
          ? await watch(target.kind, namespace: target.namespace, since: request.query["resourceVersion"])
          : await list(target.kind, namespace: target.namespace)
      case .POST:
        return await write(request, .create(target.kind, namespace: target.namespace))
      default:
        return .failure(.methodNotAllowed, reason: "MethodNotAllowed", "\(request.method) on a collection")
      }
    }
    let id = ResourceID(target.kind, namespace: namespace, name: name, cluster: cluster)
    switch (request.method, target.subresource) {
    case (.GET, nil):
      guard let stored = await plane.object(id) else { return notFound(id) }
      var object = ManifestJSON.object(stored)
      object["status"] = await status(of: stored)
      return .json(.ok, object)
    case (.GET, "status"?):
      guard let stored = await plane.object(id) else { return notFound(id) }
      return .json(.ok, await status(of: stored))
    case (.PUT, nil):
      return await write(request, .replace(id))
    case (.DELETE, nil):
      do {
        let deleted = try await plane.delete(id, expectedVersion: request.query["resourceVersion"])
        return .json(.ok, ManifestJSON.object(deleted))
      } catch {
        return storeFailure(error)
      }
    default:
      return .failure(.methodNotAllowed, reason: "MethodNotAllowed", "\(request.method) is not served here")
    }
  }

  private func notFound(_ id: ResourceID) -> APIResponse {
    .failure(.notFound, reason: "NotFound", "\(id) not found")
  }

  private func list(_ kind: ResourceKind, namespace: String?) async -> APIResponse {
    let objects = await plane.allObjects.filter {
      $0.id.kind == kind && (namespace == nil || $0.id.namespace == namespace)
    }
    return .json(
      .ok,
      [
        "apiVersion": kind.apiVersions.last!, "kind": "\(kind.rawValue)List",
        "metadata": ["resourceVersion": String(await plane.revision)],
        "items": objects.map(ManifestJSON.object),
      ] as [String: Any])
  }

  /// Changes as JSON lines, `{"type": "ADDED|MODIFIED|DELETED", "object": {...}}`. Without a resourceVersion
  /// the current objects come first as ADDED; with one, those changed since.
  private func watch(_ kind: ResourceKind, namespace: String?, since: String?) async -> APIResponse {
    let events = await plane.watch()
    let sinceRevision = since.flatMap(Int64.init) ?? 0
    let current = await plane.allObjects.filter {
      $0.id.kind == kind && (namespace == nil || $0.id.namespace == namespace)
        && (Int64($0.stamp.resourceVersion) ?? 0) > sinceRevision
    }
    func line(_ type: String, _ object: StoredObject) -> Data {
      ManifestJSON.encode(["type": type, "object": ManifestJSON.object(object)] as [String: Any])
        + Data("\n".utf8)
    }
    let stream = AsyncStream<Data> { continuation in
      for object in current { continuation.yield(line(sinceRevision == 0 ? "ADDED" : "MODIFIED", object)) }
      let task = Task {
        for await event in events
        where event.object.id.kind == kind && (namespace == nil || event.object.id.namespace == namespace) {
          continuation.yield(line(event.kind.rawValue, event.object))
        }
        continuation.finish()
      }
      continuation.onTermination = { _ in task.cancel() }
    }
    return APIResponse(status: .ok, stream: stream)
  }

  private func write(_ request: APIRequest, _ intent: ManagementPlane.WriteIntent) async -> APIResponse {
    if let reason = plane.store.readOnlyReason {
      return .failure(.methodNotAllowed, reason: "MethodNotAllowed", reason)
    }
    let text = String(buffer: request.body)
    let source = request.headers.first(name: "x-portico-source") ?? "<request>"
    let firstLine = request.headers.first(name: "x-portico-line").flatMap(Int.init) ?? 1
    let document = ManifestDocument(source: source, firstLine: firstLine, text: text)
    do {
      var existed = false
      if case .replace(let target) = intent { existed = await plane.object(target) != nil }
      let stored = try await plane.write(document, intent: intent)
      return .json(existed ? .ok : .created, ManifestJSON.object(stored))
    } catch let misplaced as ManagementPlane.WrongCollection {
      return .failure(.badRequest, reason: "BadRequest", misplaced.description)
    } catch let refusal as ManagementPlane.Refusal {
      let causes: [[String: Any]] = refusal.diagnostics.map { diagnostic in
        var cause: [String: Any] = ["message": diagnostic.message, "field": "\(diagnostic.path)"]
        if let location = diagnostic.location {
          cause["location"] = "\(location)"
          cause["line"] = location.line
          cause["column"] = location.column
        }
        cause["error"] = diagnostic.description
        return cause
      }
      return .failure(
        .unprocessableEntity, reason: "Invalid",
        refusal.diagnostics.map(\.description).joined(separator: "\n"), causes: causes)
    } catch {
      return storeFailure(error)
    }
  }

  private func storeFailure(_ error: any Error) -> APIResponse {
    switch error {
    case StoreError.conflict: return .failure(.conflict, reason: "Conflict", "\(error)")
    case StoreError.notFound: return .failure(.notFound, reason: "NotFound", "\(error)")
    case StoreError.readOnly: return .failure(.methodNotAllowed, reason: "MethodNotAllowed", "\(error)")
    default: return .failure(.internalServerError, reason: "InternalError", "the store failed: \(error)")
    }
  }

  /// `Accepted` (the translator's verdict) apart from `Programmed` (per gateway: the generation it runs).
  private func status(of stored: StoredObject) async -> [String: Any] {
    let acceptance = await plane.acceptance(of: stored.id)
    let key = relayKey(stored.id)
    let gateways: [[String: Any]] = await plane.allGatewayRecords().map { record in
      var entry: [String: Any] = [
        "gateway": record.identity.displayName, "cluster": record.identity.cluster,
        "connected": record.connected,
        "programmed": record.running[key] == stored.stamp.generation,
      ]
      if let generation = record.running[key] { entry["generation"] = generation }
      if let error = record.lastError { entry["error"] = error }
      return entry
    }
    var status: [String: Any] = [
      "observedGeneration": stored.stamp.generation,
      "state": acceptance?.state.rawValue ?? "Accepted",
      "errors": (acceptance?.errors ?? []).map(\.description),
      "warnings": (acceptance?.warnings ?? []).map(\.description),
      "gateways": gateways,
    ]
    if stored.id.kind == .secret { status["state"] = "Accepted" }
    return status
  }

  // MARK: - Relay

  private func relay(_ request: APIRequest, _ parts: [String]) async -> APIResponse {
    let revision = await plane.revision
    switch (request.method, parts) {
    case (.GET, ["v1", "gateways"]):
      let records = await plane.allGatewayRecords()
      return .json(
        .ok,
        [
          "generation": revision,
          "gateways": records.map { record -> [String: Any] in
            var entry: [String: Any] = [
              "gateway": record.identity.displayName, "name": record.identity.name,
              "namespace": record.identity.namespace, "cluster": record.identity.cluster,
              "connected": record.connected, "generation": record.generation,
              "upToDate": record.generation == revision,
            ]
            if let locality = record.identity.locality { entry["locality"] = locality.text }
            if let error = record.lastError { entry["lastError"] = error }
            if let refused = record.refusedGeneration { entry["refusedGeneration"] = refused }
            return entry
          },
        ] as [String: Any])
    case (.GET, ["v1", "clusters"]):
      let now = Date()
      let agents = await plane.agentRecords
      return .json(
        .ok,
        [
          "clusters": agents.map { agent -> [String: Any] in
            let counts = agent.counts
            return [
              "cluster": agent.cluster, "lastReport": timestamp(agent.lastReport),
              "secondsSinceReport": Int(now.timeIntervalSince(agent.lastReport)),
              "refreshSeconds": agent.refreshSeconds, "silent": agent.isSilent(at: now),
              "healthy": counts[.healthy] ?? 0, "ejected": counts[.ejected] ?? 0,
              "unknown": counts[.unknown] ?? 0,
              "endpoints": agent.endpoints.map { endpoint -> [String: Any] in
                [
                  "namespace": endpoint.namespace, "name": endpoint.name, "address": endpoint.address,
                  "port": endpoint.port, "state": endpoint.state.rawValue, "ejections": endpoint.ejections,
                ]
              },
            ]
          }
        ] as [String: Any])
    case (.GET, _)
    where parts.count == 5 && parts[0] == "v1" && parts[1] == "gateways" && parts[4] == "config":
      // What a gateway connected to this replica runs, for `portico routes` and `explain --server`.
      let name = "\(parts[2])/\(parts[3])@\(request.query["cluster"] ?? GatewayIdentity.defaultCluster)"
      guard let (identity, snapshot) = await plane.runningConfiguration(of: name) else {
        return .failure(.notFound, reason: "NotFound", "gateway \(name) runs nothing this replica sent it")
      }
      let data =
        (try? JSONEncoder().encode(RunningConfiguration(identity: identity, snapshot: snapshot))) ?? Data()
      return APIResponse(status: .ok, body: data)
    case (.POST, _)
    where parts.count == 5 && parts[0] == "v1" && parts[1] == "gateways" && parts[4] == "revoke":
      let namespace = parts[2]
      let name = parts[3]
      let identity = GatewayIdentity(
        name: name, namespace: namespace, cluster: request.query["cluster"] ?? GatewayIdentity.defaultCluster)
      do {
        guard try await book.revoke(gateway: identity.displayName) else {
          return .failure(
            .notFound, reason: "NotFound", "no certificate was issued to \(identity.displayName)")
        }
      } catch {
        return .failure(
          .internalServerError, reason: "InternalError", "cannot record the revocation: \(error)")
      }
      await plane.evict(identity)
      return .json(.ok, ["revoked": identity.displayName])
    case (.POST, _)
    where parts.count == 5 && parts[0] == "v1" && parts[1] == "gateways" && parts[4] == "reinstate":
      let identity = GatewayIdentity(
        name: parts[3], namespace: parts[2],
        cluster: request.query["cluster"] ?? GatewayIdentity.defaultCluster)
      do {
        guard try await book.reinstate(gateway: identity.displayName) else {
          return .failure(.notFound, reason: "NotFound", "\(identity.displayName) is not revoked")
        }
      } catch {
        return .failure(
          .internalServerError, reason: "InternalError", "cannot record the reinstatement: \(error)")
      }
      return .json(.ok, ["reinstated": identity.displayName])
    default:
      return .failure(.notFound, reason: "NotFound", "no such path: \(request.path)")
    }
  }
}

/// What `GET /relay/v1/gateways/NS/NAME/config` answers: the gateway's identity and the snapshot it runs.
public struct RunningConfiguration: Codable, Sendable {
  public var identity: GatewayIdentity
  public var snapshot: ShippedSnapshot
}
