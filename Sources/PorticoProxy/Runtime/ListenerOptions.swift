import NIOCore
import NIOPosix

extension ServerBootstrap {
  /// The socket options of every client-facing listener. Public for the load benchmark's SwiftNIO
  /// floor, which must listen as the gateway does.
  public func gatewayListenerOptions() -> ServerBootstrap {
    serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      // Reads a busy connection may take in one turn of the event loop before the others get theirs.
      .childChannelOption(.maxMessagesPerRead, value: 16)
  }
}
