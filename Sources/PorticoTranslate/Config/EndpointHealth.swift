/// One upstream endpoint as a gateway sees it: ejected by outlier detection on at least one of its event
/// loops, or not. What `/endpoints` on a gateway's admin listener answers, and what a cluster's agent reads
/// there to report its endpoints' health to the plane.
public struct EndpointHealth: Sendable, Codable, Hashable {
  public let upstream: String
  public let address: String
  public let port: Int
  /// The cluster whose registry the endpoint came from; nil for static destinations.
  public let cluster: String?
  public var ejected: Bool
  /// Ejections so far, over every event loop.
  public var ejections: Int

  public init(upstream: String, address: String, port: Int, cluster: String?, ejected: Bool, ejections: Int) {
    self.upstream = upstream
    self.address = address
    self.port = port
    self.cluster = cluster
    self.ejected = ejected
    self.ejections = ejections
  }
}
