import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener: readiness, liveness, the running configuration, routes, statuses, endpoint health and
/// metrics.
enum AdminServer {
  static func bind(gateway: Gateway, host: String, port: Int, group: EventLoopGroup) async throws -> Channel {
    try await ServerBootstrap(group: group)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
          try channel.pipeline.syncOperations.addHandler(AdminHandler(gateway: gateway))
        }
      }
      .bind(host: host, port: port).get()
  }

  /// The answer to an admin request.
  static func respond(to method: HTTPMethod, uri: String, gateway: Gateway) -> (
    HTTPResponseStatus, String, String
  ) {
    let text = "text/plain; charset=utf-8"
    let json = "application/json"
    guard method == .GET || method == .HEAD else { return (.methodNotAllowed, text, "GET only\n") }
    let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
    let wantsJSON = uri.contains("format=json")
    switch path {
    case "/healthz":
      return (.ok, text, "ok\n")
    case "/ready":
      return gateway.isReady ? (.ok, text, "ready\n") : (.serviceUnavailable, text, "not ready\n")
    case "/config_dump":
      guard let config = gateway.activeConfig else {
        return (.serviceUnavailable, text, "no configuration\n")
      }
      return (.ok, json, ConfigDump(generation: config.generation, config: config.config).json)
    case "/routes":
      guard let config = gateway.activeConfig else {
        return (.serviceUnavailable, text, "no configuration\n")
      }
      let report = RoutesReport(translations: [config.translation])
      return wantsJSON ? (.ok, json, report.json) : (.ok, text, report.text)
    case "/status":
      guard let config = gateway.activeConfig else {
        return (.serviceUnavailable, text, "no configuration\n")
      }
      return (
        .ok, json, StatusDump(generation: config.generation, statuses: config.translation.statuses).json
      )
    case "/stats/prometheus":
      return (.ok, "text/plain; version=0.0.4", gateway.metrics.exposition())
    default:
      return (
        .notFound, text,
        "endpoints: /ready /healthz /config_dump /routes /status /endpoints /stats/prometheus\n"
      )
    }
  }
}

/// `/config_dump`: the running configuration and its generation. Secrets never enter a GatewayConfig.
struct ConfigDump: Encodable {
  let generation: Int
  let config: GatewayConfig

  var json: String { Formatting.json(self) }
}

/// `/status`: every resource's status as translated for this gateway.
struct StatusDump: Encodable {
  let generation: Int
  let statuses: [ResourceStatus]

  var json: String { Formatting.json(self) }
}

final class AdminHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  let gateway: Gateway
  private var request: HTTPRequestHead?

  init(gateway: Gateway) { self.gateway = gateway }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): request = head
    case .body: break
    case .end:
      guard let head = request else { return }
      request = nil
      if head.method == .GET || head.method == .HEAD, head.uri.split(separator: "?").first == "/endpoints" {
        // Gathered from every event loop, so answered when they all have.
        let promise = context.eventLoop.makePromise(of: String.self)
        promise.completeWithTask { [gateway] in Formatting.json(await gateway.endpointHealth()) }
        promise.futureResult.assumeIsolated().whenSuccess { body in
          self.send(.ok, "application/json", body, for: head, context: context)
        }
        return
      }
      let (status, contentType, body) = AdminServer.respond(to: head.method, uri: head.uri, gateway: gateway)
      send(status, contentType, body, for: head, context: context)
    }
  }

  private func send(
    _ status: HTTPResponseStatus, _ contentType: String, _ body: String, for head: HTTPRequestHead,
    context: ChannelHandlerContext
  ) {
    var headers = HTTPHeaders()
    headers.add(name: "content-type", value: contentType)
    headers.add(name: "content-length", value: String(body.utf8.count))
    if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
      promise: nil)
    if head.method != .HEAD {
      context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
    }
    let done = context.eventLoop.makePromise(of: Void.self)
    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
    if !head.isKeepAlive {
      let channel = context.channel
      done.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
  }
}
