import PorticoAPI

/// A route's rate limiting, resolved: the rules of the RateLimitServerConfigs its selector picks, the actions
/// that make its descriptors (inline or from a RateLimitClientConfig), and what to do when the counter store
/// fails.
public struct RateLimitConfig: Sendable, Encodable, Hashable {
  public struct ServerConfig: Sendable, Encodable, Hashable {
    /// `namespace/name`: counters are kept apart per config.
    public var id: String
    public var rules: RateLimitRules
  }

  public var serverConfigs: [ServerConfig]
  public var actions: [RateLimitActions]
  /// Refuse (429) when the store cannot answer; otherwise let the request through (Gloo's default).
  public var denyOnFail: Bool
  /// How long a shared store may take before it counts as failed; 100 ms when not set.
  public var requestTimeout: ManifestDuration?
  /// What `sourceCluster` and `destinationCluster` actions read.
  public var sourceCluster: String
  public var destinationCluster: String
}
