import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PorticoManagement
import PorticoProxy
import PorticoRelay
import XCTest

/// Two clusters' gateways on loopback: a VirtualDestination's traffic stays in the caller's cluster, and when
/// the local backend dies it enters the other cluster through that cluster's east-west listener, over mutual
/// TLS with the mesh CA.
final class EastWestTests: XCTestCase {
  private let mesh = try! MeshAuthority.make()

  private func manifests(eastShop: Int, westShop: Int, westEastWest: Int, eastEastWest: Int) -> String {
    return clusterRegistry(
      shop: ("127.0.0.1", eastShop), eastWest: ("127.0.0.1", eastEastWest), cluster: "east", region: "eu")
      + clusterRegistry(
        shop: ("127.0.0.1", westShop), eastWest: ("127.0.0.1", westEastWest), cluster: "west", region: "us")
        + """
        apiVersion: portico.dev/v1
        kind: VirtualGateway
        metadata: {name: edge, namespace: edge}
        spec:
          options: {bindAddress: 127.0.0.1}
          ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {gateway: edge}, namespaces: ["*"]}}]}]
          connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {namespaces: [apps]}}]}}]
        ---
        \(meshAndDestination(baseEjectionTime: "1s"))
        apiVersion: portico.dev/v1
        kind: VirtualHost
        metadata: {name: shop, namespace: apps}
        spec:
          domains: [shop.test]
          routes:
          - matchers: [{uri: {prefix: /}}]
            options: {retries: {attempts: 2}}
            routeAction: {destinations: [{virtualDestination: {name: shop}}]}
        ---
        apiVersion: portico.dev/v1
        kind: VirtualHost
        metadata: {name: west-shop, namespace: apps}
        spec:
          domains: [west.shop.test]
          routes:
          - routeAction: {destinations: [{kubeService: {name: shop, namespace: apps, clusterName: west}}]}

        """
  }

  /// A gateway of `cluster` serving `manifests` plus its own mesh identity, from a folder of its own.
  private func gateway(
    _ cluster: String, region: String, eastWest: Int, manifests: String
  ) async throws -> Gateway {
    var identity = GatewayIdentity(
      name: "edge", namespace: "edge", cluster: cluster, labels: ["gateway": "edge"],
      ports: ["http": 0, EastWestGateway.portName: eastWest], locality: .init(region: region))
    identity.eastWestPort = eastWest
    let folder = try temporaryDirectory("gateway-\(cluster)")
    try manifests.write(toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
    try mesh.identityManifest(for: identity).write(
      toFile: folder + "/mesh.json", atomically: true, encoding: .utf8)
    var options = GatewayOptions(identity: identity, configDirectory: folder)
    options.adminPort = 0
    options.threads = 1
    options.watchInterval = nil
    options.accessLog = .disabled
    options.bindHost = "127.0.0.1"
    var logger = Logger(label: "test.gateway")
    logger.logLevel = .critical
    let gateway = try Gateway(options: options, logger: logger)
    try await gateway.start()
    let errors =
      (gateway.activeConfig?.translation.statuses ?? []).flatMap(\.errors)
      + (gateway.activeConfig?.tlsDiagnostics ?? [])
    XCTAssertEqual(errors.map(\.description), [], "\(cluster)")
    return gateway
  }

  private func server(_ gateway: Gateway, host: String = "shop.test") async throws -> String? {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(gateway.boundPorts["http"] ?? 0)/")
    request.headers.add(name: "host", value: host)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    let body = try await response.body.collect(upTo: 1 << 20)
    guard response.status == .ok else { return "status \(response.status.code)" }
    let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
    return json?["server"] as? String
  }

  func testTrafficFailsOverIntoTheOtherClusterThroughItsEastWestListener() async throws {
    let eastGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let eastShop = try await DemoUpstream.start(name: "east", port: 0, group: eastGroup)
    let westShop = try await DemoUpstream.start(name: "west", port: 0)
    let (eastEastWest, westEastWest) = (try freePort(), try freePort())
    let manifests = manifests(
      eastShop: eastShop.localAddress!.port!, westShop: westShop.localAddress!.port!,
      westEastWest: westEastWest,
      eastEastWest: eastEastWest)
    let east = try await gateway("east", region: "eu", eastWest: eastEastWest, manifests: manifests)
    let west = try await gateway("west", region: "us", eastWest: westEastWest, manifests: manifests)

    let upstream = east.activeConfig?.config.upstreams.first { $0.id == "virtual:apps/shop" }
    XCTAssertEqual(
      upstream?.endpoints.map { "\($0.address):\($0.port) \($0.meshServerName ?? "direct")" },
      [
        "127.0.0.1:\(eastShop.localAddress!.port!) direct",
        "127.0.0.1:\(westEastWest) 8080.shop.apps.svc.west.global",
      ], "the other cluster is reached through its east-west gateway, never at its pods' addresses")

    let local = try await server(east)
    XCTAssertEqual(local, "east")
    try await eastGroup.shutdownGracefully()
    for _ in 0..<10 {
      let answer = try await server(east)
      XCTAssertEqual(answer, "west")
    }
    let westServed = west.metrics.exposition()
    XCTAssertTrue(
      westServed.contains("destination=\"kube:west/apps/shop:8080\",status_class=\"2xx\"} 10"),
      "the west gateway's east-west listener served them: \(westServed)")
    await east.shutdown()
    await west.shutdown()
    try await westShop.close()
  }

  func testAFederatedServiceOfTheOtherClusterIsServedThroughItsEastWestListener() async throws {
    let eastShop = try await DemoUpstream.start(name: "east", port: 0)
    let westShop = try await DemoUpstream.start(name: "west", port: 0)
    let (eastEastWest, westEastWest) = (try freePort(), try freePort())
    let manifests = manifests(
      eastShop: eastShop.localAddress!.port!, westShop: westShop.localAddress!.port!,
      westEastWest: westEastWest, eastEastWest: eastEastWest)
    let east = try await gateway("east", region: "eu", eastWest: eastEastWest, manifests: manifests)
    let west = try await gateway("west", region: "us", eastWest: westEastWest, manifests: manifests)

    let upstream = east.activeConfig?.config.upstreams.first { $0.id == "kube:west/apps/shop:8080" }
    XCTAssertEqual(
      upstream?.endpoints.map { "\($0.address):\($0.port) \($0.meshServerName ?? "direct")" },
      ["127.0.0.1:\(westEastWest) 8080.shop.apps.svc.west.global"])
    for _ in 0..<3 {
      let answer = try await server(east, host: "west.shop.test")
      XCTAssertEqual(answer, "west")
    }
    await east.shutdown()
    await west.shutdown()
    try await eastShop.close()
    try await westShop.close()
  }

  func testTheEastWestListenerTakesOnlyMeshCertificates() async throws {
    let westShop = try await DemoUpstream.start(name: "west", port: 0)
    let westEastWest = try freePort()
    let manifests = manifests(
      eastShop: 1, westShop: westShop.localAddress!.port!, westEastWest: westEastWest, eastEastWest: 2)
    let west = try await gateway("west", region: "us", eastWest: westEastWest, manifests: manifests)
    let serverName = "8080.shop.apps.svc.west.global"
    let caller = GatewayIdentity(name: "edge", namespace: "edge", cluster: "east")

    let meshIdentity = try mesh.identity(for: caller)
    let accepted = try await request(
      port: westEastWest, serverName: serverName, certificate: meshIdentity.certificatePEM,
      key: meshIdentity.keyPEM)
    XCTAssertTrue(accepted.hasPrefix("HTTP/1.1 200"), accepted)

    // A relay client certificate, issued by the relay CA, opens nothing here.
    let relay = try RelayAuthority.make()
    let enrollment = try RelayCredentials.enrollment(for: caller)
    let relayCertificate = try relay.issueClientCertificate(
      for: caller, requestDER: try enrollment.signingRequestDER(for: caller))
    let refused = try? await request(
      port: westEastWest, serverName: serverName, certificate: relayCertificate.serializeAsPEM().pemString,
      key: enrollment.keyPEM)
    XCTAssertNil(
      refused.flatMap { $0.isEmpty ? nil : $0 }, "a relay certificate is refused: \(refused ?? "")")

    // Nor does a mesh CA's own certificate for another mesh.
    let stranger = try MeshAuthority.make().identity(for: caller)
    let strange = try? await request(
      port: westEastWest, serverName: serverName, certificate: stranger.certificatePEM, key: stranger.keyPEM)
    XCTAssertNil(strange.flatMap { $0.isEmpty ? nil : $0 })
    await west.shutdown()
    try await westShop.close()
  }

  /// Sends `GET /` over TLS with a client certificate, trusting the mesh CA; returns what came back.
  private func request(port: Int, serverName: String, certificate: String, key: String) async throws -> String
  {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map {
      .certificate($0)
    }
    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
    configuration.trustRoots = .certificates(
      try NIOSSLCertificate.fromPEMBytes(Array(mesh.certificatePEM.utf8)))
    configuration.certificateVerification = .noHostnameVerification
    configuration.applicationProtocols = ["http/1.1"]
    let context = try NIOSSLContext(configuration: configuration)
    let collector = ResponseCollector()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            NIOSSLClientHandler(context: context, serverHostname: serverName))
          try channel.pipeline.syncOperations.addHandler(collector)
        }
      }
      .connect(host: "127.0.0.1", port: port).get()
    channel.writeAndFlush(
      ByteBuffer(string: "GET / HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n"), promise: nil)
    try? await channel.closeFuture.get()
    return collector.text
  }
}

/// Collects every byte a connection receives.
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  private let lock = NSLock()
  private var received = ""

  var text: String { lock.withLock { received } }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    lock.withLock { received += String(buffer: buffer) }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
