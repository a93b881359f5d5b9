import AsyncHTTPClient
import Foundation
import NIOCore

/// A small client of etcd's v3 API through its JSON gateway (`/v3/...`), over several members: a call that
/// cannot reach one member goes to the next.
struct EtcdClient: Sendable {
  struct KeyValue: Sendable {
    var key: String
    var value: Data
    var modRevision: Int64
    var createRevision: Int64
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  let endpoints: [String]

  /// `etcd://HOST:PORT[,HOST:PORT...]`.
  init(url: String) throws {
    let members = url.dropFirst("etcd://".count).split(separator: ",").map { "http://\($0)" }
    guard !members.isEmpty else { throw Failure(description: "etcd:// needs HOST:PORT[,HOST:PORT...]") }
    endpoints = members
  }

  // MARK: - Keys

  /// Every key under `prefix`, and the store's revision.
  func range(prefix: String) async throws -> (items: [KeyValue], revision: Int64) {
    let answer = try await call(
      "/v3/kv/range", ["key": Self.encode(prefix), "range_end": Self.encode(Self.end(of: prefix))])
    return (Self.keyValues(answer["kvs"]), Self.revision(answer))
  }

  func get(_ key: String) async throws -> KeyValue? {
    Self.keyValues(try await call("/v3/kv/range", ["key": Self.encode(key)])["kvs"]).first
  }

  /// Writes `value` when the key's modification revision is `expected` (0: when the key does not exist);
  /// returns the new revision, or nil when the comparison failed.
  func put(_ key: String, _ value: Data, ifModifiedAt expected: Int64?, lease: Int64? = nil) async throws
    -> Int64?
  {
    var put: [String: Any] = ["key": Self.encode(key), "value": value.base64EncodedString()]
    if let lease { put["lease"] = String(lease) }
    guard let expected else {
      return Self.revision(try await call("/v3/kv/put", put))
    }
    let answer = try await call(
      "/v3/kv/txn",
      [
        "compare": [
          ["key": Self.encode(key), "target": "MOD", "result": "EQUAL", "mod_revision": String(expected)]
        ],
        "success": [["request_put": put]],
      ])
    return answer["succeeded"] as? Bool == true ? Self.revision(answer) : nil
  }

  /// Deletes the key when its modification revision is `expected` (any, when nil); false when it did not.
  func delete(_ key: String, ifModifiedAt expected: Int64?) async throws -> Bool {
    var compare: [[String: Any]] = []
    if let expected {
      compare = [
        ["key": Self.encode(key), "target": "MOD", "result": "EQUAL", "mod_revision": String(expected)]
      ]
    }
    let answer = try await call(
      "/v3/kv/txn", ["compare": compare, "success": [["request_delete_range": ["key": Self.encode(key)]]]])
    return answer["succeeded"] as? Bool == true
  }

  // MARK: - Leases

  func grantLease(seconds: Int) async throws -> Int64 {
    let answer = try await call("/v3/lease/grant", ["TTL": String(seconds)])
    guard let id = Self.int(answer["ID"]) else { throw Failure(description: "etcd granted no lease") }
    return id
  }

  /// Renews a lease; false when it has expired.
  func keepAlive(_ lease: Int64) async throws -> Bool {
    let answer = try await call("/v3/lease/keepalive", ["ID": String(lease)])
    let result = answer["result"] as? [String: Any] ?? answer
    return (Self.int(result["TTL"]) ?? 0) > 0
  }

  // MARK: - Watching

  /// Yields each time a key under `prefix` changes after `revision`, until the stream is dropped or the
  /// connection ends (the caller watches again).
  func watch(prefix: String, after revision: Int64) async throws -> AsyncThrowingStream<Void, any Error> {
    let body: [String: Any] = [
      "create_request": [
        "key": Self.encode(prefix), "range_end": Self.encode(Self.end(of: prefix)),
        "start_revision": String(revision + 1),
      ]
    ]
    var lastError: (any Error)?
    for endpoint in endpoints {
      var request = HTTPClientRequest(url: endpoint + "/v3/watch")
      request.method = .POST
      request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
      do {
        let response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else { throw Failure(description: "etcd watch: \(response.status)") }
        return AsyncThrowingStream { continuation in
          let task = Task {
            do {
              var pending = Data()
              for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                // The gateway streams one JSON object per event batch; a batch with events is a change.
                if String(decoding: pending, as: UTF8.self).contains("\"events\"") {
                  continuation.yield()
                }
                pending.removeAll(keepingCapacity: true)
              }
              continuation.finish()
            } catch {
              continuation.finish(throwing: error)
            }
          }
          continuation.onTermination = { _ in task.cancel() }
        }
      } catch {
        lastError = error
      }
    }
    throw lastError ?? Failure(description: "no etcd member answered")
  }

  // MARK: - Plumbing

  private func call(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
    let data = try JSONSerialization.data(withJSONObject: body)
    var lastError: (any Error)?
    for endpoint in endpoints {
      var request = HTTPClientRequest(url: endpoint + path)
      request.method = .POST
      request.headers.add(name: "content-type", value: "application/json")
      request.body = .bytes(ByteBuffer(bytes: data))
      do {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let object =
          (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
        guard response.status == .ok else {
          throw Failure(
            description: "etcd \(path): \(response.status.code) \(object["message"] ?? object["error"] ?? "")"
          )
        }
        return object
      } catch {
        lastError = error
      }
    }
    throw lastError ?? Failure(description: "no etcd member answered")
  }

  private static func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

  /// The end of the range of keys that start with `prefix`.
  private static func end(of prefix: String) -> String {
    var bytes = Array(prefix.utf8)
    bytes[bytes.count - 1] += 1
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func int(_ value: Any?) -> Int64? {
    if let text = value as? String { return Int64(text) }
    return (value as? NSNumber)?.int64Value
  }

  private static func revision(_ answer: [String: Any]) -> Int64 {
    int((answer["header"] as? [String: Any])?["revision"]) ?? 0
  }

  private static func keyValues(_ value: Any?) -> [KeyValue] {
    (value as? [[String: Any]] ?? []).compactMap { item in
      guard let key = (item["key"] as? String).flatMap({ Data(base64Encoded: $0) }) else { return nil }
      return KeyValue(
        key: String(decoding: key, as: UTF8.self),
        value: (item["value"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data(),
        modRevision: int(item["mod_revision"]) ?? 0, createRevision: int(item["create_revision"]) ?? 0)
    }
  }
}
