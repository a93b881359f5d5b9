import Foundation

/// What the plane knows of one gateway: who it is, whether it is connected, and what it runs.
public struct GatewayRecord: Sendable, Codable, Equatable {
  public var identity: GatewayIdentity
  public var connected: Bool
  /// The plane generation the gateway last acknowledged (0: none).
  public var generation: Int64
  /// For each resource key it runs, the metadata.generation of the manifest it runs.
  public var running: [String: Int64]
  /// Why the gateway refused the last snapshot it refused, and which generation that was.
  public var lastError: String?
  public var refusedGeneration: Int64?

  init(identity: GatewayIdentity) {
    self.identity = identity
    connected = false
    generation = 0
    running = [:]
  }
}

/// A change to a resource, as a watch reports it.
public struct WatchEvent: Sendable {
  public enum Kind: String, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
  }

  public var kind: Kind
  public var object: StoredObject
}
