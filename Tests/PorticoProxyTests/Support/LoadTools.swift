import AsyncHTTPClient
import Foundation
import NIOCore
import PorticoProxy

/// Sends `count` requests with `concurrency` in flight and returns each response's status and the demo
/// upstream that answered (its `x-upstream` header), in completion order.
func load(
  _ url: String, host: String, count: Int, concurrency: Int
) async throws -> [(status: Int, upstream: String?)] {
  try await withThrowingTaskGroup(of: [(Int, String?)].self) { group in
    let perWorker = count / concurrency
    for worker in 0..<concurrency {
      let share = perWorker + (worker < count % concurrency ? 1 : 0)
      group.addTask {
        var results: [(Int, String?)] = []
        results.reserveCapacity(share)
        for _ in 0..<share {
          var request = HTTPClientRequest(url: url)
          request.headers.add(name: "host", value: host)
          let response = try await testClient.execute(request, timeout: .seconds(30))
          _ = try await response.body.collect(upTo: 1 << 20)
          results.append((Int(response.status.code), response.headers.first(name: "x-upstream")))
        }
        return results
      }
    }
    var all: [(status: Int, upstream: String?)] = []
    for try await results in group { all += results.map { (status: $0.0, upstream: $0.1) } }
    return all
  }
}

/// A loopback port nothing listens on.
func closedPort() async throws -> Int {
  let channel = try await DemoUpstream.start(name: "gone", port: 0)
  let port = channel.localAddress!.port!
  try await channel.close()
  return port
}
