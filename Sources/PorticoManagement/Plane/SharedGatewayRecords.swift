import Foundation
import Synchronization

/// Where replicas of the plane tell each other about the gateways connected to them: each replica writes
/// its gateways' records to etcd under a lease of its own, so that any replica can show every gateway, and
/// the records of a replica that dies go with its lease.
final class SharedGatewayRecords: Sendable {
  private static let prefix = "/portico/gateways/"
  private let client: EtcdClient
  private let lease = Mutex<Int64?>(nil)
  /// What this replica last wrote, to write again under a new lease if the old one was lost.
  private let published = Mutex<[String: GatewayRecord]>([:])
  private let keeper = Mutex<Task<Void, Never>?>(nil)

  init(client: EtcdClient) { self.client = client }

  /// Keeps the lease alive (a 5 s lease, renewed every 1.5 s) until `stop`.
  func start() {
    let task = Task { [weak self] in
      while !Task.isCancelled {
        await self?.renew()
        try? await Task.sleep(for: .milliseconds(1500))
      }
    }
    keeper.withLock { $0 = task }
  }

  func stop() { keeper.withLock { $0?.cancel() } }

  private func renew() async {
    if let current = lease.withLock({ $0 }), (try? await client.keepAlive(current)) == true { return }
    guard let fresh = try? await client.grantLease(seconds: 5) else { return }
    lease.withLock { $0 = fresh }
    for record in published.withLock({ Array($0.values) }) { await write(record, lease: fresh) }
  }

  func publish(_ record: GatewayRecord) async {
    published.withLock { $0[record.identity.displayName] = record }
    guard let current = lease.withLock({ $0 }) else { return }
    await write(record, lease: current)
  }

  private func write(_ record: GatewayRecord, lease: Int64) async {
    guard let data = try? JSONEncoder().encode(record) else { return }
    _ = try? await client.put(
      Self.prefix + record.identity.displayName, data, ifModifiedAt: nil, lease: lease)
  }

  /// Every replica's records.
  func all() async -> [GatewayRecord] {
    guard let items = try? await client.range(prefix: Self.prefix).items else { return [] }
    return items.compactMap { try? JSONDecoder().decode(GatewayRecord.self, from: $0.value) }
  }
}
