import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PorticoExtAuthGRPC

/// The gRPC clients `passThroughAuth.grpc` steps ask ext_authz servers with: one per server address, shared
/// by every step, configuration and event loop, and kept for the process's life (a reload keeps its
/// connections). Plain-text HTTP/2, as an ext_authz server beside the gateway usually speaks.
enum ExtAuthzClients {
  typealias Client = Envoy_Service_Auth_V3_Authorization.Client<HTTP2ClientTransport.Posix>

  private static let clients = SharedByKey<String, Client>()

  static func client(host: String, port: Int) -> Client {
    clients.value(for: "\(host):\(port)") { make(host: host, port: port) }
  }

  private static func make(host: String, port: Int) -> Client {
    let target: any ResolvableTarget =
      if host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ UInt8($0) != nil }),
        host.split(separator: ".").count == 4
      {
        .ipv4(address: host, port: port)
      } else if host.contains(":") {
        .ipv6(address: host, port: port)
      } else {
        .dns(host: host, port: port)
      }
    // Only fails for a TLS configuration, which this transport does not have.
    let transport = try! HTTP2ClientTransport.Posix(
      target: target, transportSecurity: .plaintext,
      config: .defaults { config in
        // A server that went away is tried again soon, not after minutes of back-off.
        config.backoff = .init(initial: .milliseconds(50), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
      })
    let grpc = GRPCClient(transport: transport)
    Task.detached { try? await grpc.runConnections() }
    return Client(wrapping: grpc)
  }
}
