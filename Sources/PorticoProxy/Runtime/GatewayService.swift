import ServiceLifecycle

/// Runs a gateway under swift-service-lifecycle: starts it, and drains it on graceful shutdown
/// (SIGTERM/SIGINT when run by a `ServiceGroup`).
public struct GatewayService: Service {
  public let gateway: Gateway

  public init(gateway: Gateway) { self.gateway = gateway }

  public func run() async throws {
    try await gateway.start()
    try? await gracefulShutdown()
    await gateway.shutdown()
  }
}
