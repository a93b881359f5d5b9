import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PorticoProxy

// The floor under any gateway built on SwiftNIO, run by the load benchmark beside the proxies:
//
//   NIOFloorBenchmark relay PORT UPSTREAM_PORT
//       relays the bytes of each connection to one of its own to 127.0.0.1:UPSTREAM_PORT
//   NIOFloorBenchmark tls PORT UPSTREAM_PORT CERT KEY
//       terminates TLS; a client that chooses HTTP/1.1 (or no protocol) is relayed as above, one that
//       chooses h2 by ALPN has every stream answered `200 ok` here, with no upstream at all
//
// One event loop and the gateway's socket options, like the gateway in the benchmark. Nothing is parsed
// or routed: what this costs per request is what SwiftNIO's channels, TLS and HTTP/2 cost before a
// gateway does any work of its own.

func exitWithUsage() -> Never {
  let usage = "usage: NIOFloorBenchmark relay PORT UPSTREAM_PORT | tls PORT UPSTREAM_PORT CERT KEY\n"
  _ = usage.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
  exit(2)
}

func makeServerContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
  var configuration = TLSConfiguration.makeServerConfiguration(
    certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
    privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
  configuration.applicationProtocols = ["h2", "http/1.1"]
  return try NIOSSLContext(configuration: configuration)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3, let port = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
  exitWithUsage()
}
let tlsContext: NIOSSLContext?
switch (arguments[0], arguments.count) {
case ("relay", 3): tlsContext = nil
case ("tls", 5): tlsContext = try makeServerContext(certificatePath: arguments[3], keyPath: arguments[4])
default: exitWithUsage()
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = try ServerBootstrap(group: group)
  .gatewayListenerOptions()
  .childChannelInitializer { connection in
    connection.eventLoop.makeCompletedFuture {
      guard let tlsContext else { return try Relay.start(on: connection, upstreamPort: upstreamPort) }
      try connection.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
      try connection.pipeline.syncOperations.addHandler(
        ApplicationProtocolNegotiationHandler { result, channel in
          channel.eventLoop.makeCompletedFuture {
            if case .negotiated("h2") = result {
              try HTTP2Answer.start(on: channel)
            } else {
              try Relay.start(on: channel, upstreamPort: upstreamPort)
            }
          }
        })
    }
  }
  .bind(host: "127.0.0.1", port: port).wait()
try server.closeFuture.wait()
