import Foundation
import NIOCore
import NIOHTTP1

/// One request and its response: routing, then a local answer (direct response, redirect, error) or
/// forwarding to an upstream with both bodies streamed and backpressure in both directions.
final class Exchange: UpstreamResponseReceiver {
  /// Request bytes kept while no upstream connection is ready; past this, reads from the client pause.
  static let pendingBodyLimit = 1 << 20
  /// Request bytes read and dropped after a local answer before the connection is closed instead.
  static let discardLimit = 1 << 20
  static let defaultRequestTimeout = TimeAmount.seconds(15)

  unowned let downstream: DownstreamHandler
  let loop: LoopContext
  let config: ActiveConfig
  let head: HTTPRequestHead
  private let started = NIODeadline.now()
  private let startedAt = Date()
  private(set) var requestComplete = false
  private var keepAlive: Bool
  private var requestID = ""
  private var finished = false

  // What the access log and metrics report.
  private var status = 0
  private var bytesIn = 0
  private var bytesOut = 0
  private var flags: [ResponseFlag] = []
  private var hostName = "-"
  private var routeName: String?
  private var destinationName = "-"
  private var destinationIndex = -1
  private var host: CompiledHost?

  // Forwarding state.
  /// Held by reference: copying a RouteConfig would retain each of its fields.
  private var route: CompiledRoute?
  private var destinationManipulation: HeaderManipulation?
  private var upstream: UpstreamRuntime?
  private var endpoint: Upstream.Endpoint?
  private var pool: ConnectionPool?
  /// Set while this request waits in the pool's queue.
  private var poolTicket: Int?
  private var connection: UpstreamConnection?
  private var upstreamStarted: NIODeadline?
  private var pendingBody: [HTTPClientRequestPart] = []
  private var pendingBytes = 0
  private var upstreamRequestComplete = false
  private var upstreamKeepAlive = true
  private var responseStarted = false
  private var responseComplete = false
  private var discarding = false
  /// The slot of this request's deadline in the loop's tracker.
  private var timeoutSlot: Int?

  init(downstream: DownstreamHandler, head: HTTPRequestHead) {
    self.downstream = downstream
    self.loop = downstream.loop
    self.config = downstream.loop.config
    self.head = head
    self.keepAlive = head.isKeepAlive && !downstream.loop.isDraining
  }

  // MARK: - Request

  func start() {
    requestID = head.headers.first(name: "x-request-id") ?? loop.random.requestID()
    if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
      // The gateway answers 100-continue itself and does not forward Expect.
      downstream.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
      downstream.flush()
    }
    guard let listener = config.listeners[downstream.portName] else {
      return respond(.notFound, body: "no route\n", flag: .noRoute)
    }
    if listener.redirectsToHTTPS {
      var headers = HTTPHeaders()
      let host = Authority.host(of: HTTPRequestView(head).authority)
      headers.add(name: "location", value: "https://\(host)\(head.uri)")
      return respond(.movedPermanently, body: nil, headers: headers)
    }
    switch listener.router.route(HTTPRequestView(head)) {
    case .noHost:
      respond(.notFound, body: "no virtual host serves this authority\n", flag: .noHost)
    case .noRoute(let host):
      hostName = host.config.name
      self.host = host
      respond(.notFound, body: "no route matches\n", flag: .noRoute)
    case .matched(let match):
      let compiled = match.route
      self.route = compiled
      hostName = match.host.config.name
      routeName = compiled.config.name
      if compiled.config.replacement != nil { flags.append(.invalidRoute) }
      switch compiled.config.action {
      case .directResponse(let code, let body):
        respond(
          HTTPResponseStatus(statusCode: code), body: body,
          manipulations: compiled.config.responseManipulations(destination: nil))
      case .redirect(let redirect):
        let location = Redirects.location(for: redirect, request: head, matcher: match.matcher)
        var headers = HTTPHeaders()
        headers.add(name: "location", value: location)
        respond(
          HTTPResponseStatus(statusCode: (redirect.responseCode ?? .movedPermanently).status), body: nil,
          headers: headers,
          manipulations: compiled.config.responseManipulations(destination: nil))
      case .forward(let forward):
        self.forward(forward, route: compiled, matcher: match.matcher)
      }
    }
  }

  func requestBody(_ buffer: ByteBuffer) {
    bytesIn += buffer.readableBytes
    if let connection {
      connection.write(.body(.byteBuffer(buffer)))
      if !connection.channel.isWritable { downstream.hold(.upstreamBusy) }
    } else if discarding || finished {
      if bytesIn > Self.discardLimit {
        // Too much to throw away: end the connection instead of reading it all.
        keepAlive = false
        downstream.abort()
      }
    } else {
      pendingBody.append(.body(.byteBuffer(buffer)))
      pendingBytes += buffer.readableBytes
      if pendingBytes > Self.pendingBodyLimit { downstream.hold(.buffering) }
    }
  }

  func requestEnd(_ trailers: HTTPHeaders?) {
    requestComplete = true
    if let connection {
      connection.write(.end(trailers))
      connection.flush()
      upstreamRequestComplete = true
    } else if !discarding, !finished {
      pendingBody.append(.end(trailers))
    }
    finishIfDone()
  }

  func downstreamReadComplete() { connection?.flush() }

  /// The gateway is draining: answer this request, then close the connection.
  func closeAfterResponse() {
    if !responseStarted { keepAlive = false }
  }

  func downstreamWritabilityChanged(isWritable: Bool) {
    guard let connection else { return }
    connection.handler.holdReads(!isWritable, context: connection.context)
  }

  func downstreamClosed() {
    guard !finished else { return }
    if !responseComplete { flags.append(.downstreamReset) }
    keepAlive = false
    releaseConnection(reusable: false)
    complete()
  }

  // MARK: - Forwarding

  private func forward(_ action: RouteActionConfig.ForwardAction, route: CompiledRoute, matcher: RouteMatcher)
  {
    guard let destination = Self.pickDestination(action.destinations, random: &loop.random),
      let upstream = config.upstreams[destination.upstream]
    else {
      return respond(.serviceUnavailable, body: "no healthy upstream\n", flag: .noHealthyUpstream)
    }
    destinationName = destination.upstream
    destinationIndex = action.destinations.firstIndex { $0.upstream == destination.upstream } ?? -1
    destinationManipulation = destination.headerManipulation
    self.upstream = upstream
    guard let endpoint = loop.pickEndpoint(of: upstream) else {
      return respond(.serviceUnavailable, body: "no healthy upstream\n", flag: .noHealthyUpstream)
    }
    self.endpoint = endpoint
    let timeoutNanoseconds = route.config.options.values.requestTimeout?.nanoseconds
    let timeout = timeoutNanoseconds.map { TimeAmount.nanoseconds($0) } ?? Self.defaultRequestTimeout
    if timeout.nanoseconds > 0 {
      timeoutSlot = loop.deadlines.add(deadline: .now() + timeout) { [weak self] in self?.timedOut() }
    }
    let pool = loop.pool(for: upstream, endpoint: endpoint)
    self.pool = pool
    upstreamStarted = .now()
    poolTicket = pool.acquire { [weak self] result in
      guard let self else {
        if case .success(let connection) = result { pool.release(connection, reusable: true) }
        return
      }
      self.connectionReady(result, route: route, matcher: matcher, action: action)
    }
  }

  private static func pickDestination(
    _ destinations: [RouteActionConfig.DestinationConfig], random: inout LoopRandom
  ) -> RouteActionConfig.DestinationConfig? {
    if destinations.count == 1 { return destinations[0].weight > 0 ? destinations[0] : nil }
    let total = destinations.reduce(0) { $0 + Int($1.weight) }
    guard total > 0 else { return nil }
    var point = random.next(below: total)
    for destination in destinations {
      point -= Int(destination.weight)
      if point < 0 { return destination }
    }
    return destinations.last
  }

  private func connectionReady(
    _ result: Result<UpstreamConnection, UpstreamFailure>, route: CompiledRoute, matcher: RouteMatcher,
    action: RouteActionConfig.ForwardAction
  ) {
    poolTicket = nil
    switch result {
    case .failure(let failure):
      guard !finished else { return }
      switch failure {
      case .poolOverflow:
        // A full pool says the gateway is busy, not that the endpoint is unhealthy.
        respond(.serviceUnavailable, body: "upstream overflow\n", flag: .upstreamOverflow)
      case .connectFailed, .connectTimeout:
        if let upstream, let endpoint {
          loop.recordOutcome(upstream: upstream, endpoint: endpoint, failed: true)
        }
        loop.services.metrics.upstreamConnectErrors.increment()
        respond(.serviceUnavailable, body: "upstream connect error\n", flag: .upstreamConnectFailure)
      }
    case .success(let connection):
      guard !finished else {
        pool?.release(connection, reusable: true)
        return
      }
      self.connection = connection
      connection.handler.receiver = self
      let uri = Self.upstreamURI(head: head, rewrite: action.pathRewrite, matcher: matcher)
      let upstreamHead = ProxyHeaders.upstreamRequest(
        from: head, uri: uri, clientAddress: downstream.clientAddress, requestID: requestID,
        manipulations: route.config.requestManipulations(destination: destinationManipulation))
      connection.write(.head(upstreamHead))
      for part in pendingBody { connection.write(part) }
      pendingBody = []
      pendingBytes = 0
      upstreamRequestComplete = requestComplete
      connection.flush()
      downstream.release(.buffering)
      if !connection.channel.isWritable { downstream.hold(.upstreamBusy) }
    }
  }

  /// The path (rewritten when the route says so) and the query, as sent upstream.
  static func upstreamURI(head: HTTPRequestHead, rewrite: String?, matcher: RouteMatcher) -> String {
    guard let rewrite else { return head.uri }
    let view = HTTPRequestView(head)
    let path: String
    switch matcher.path.kind {
    case .exact: path = rewrite
    default:
      path = PathRewriting.replacePrefix(
        of: view.path, matchedLength: matcher.path.literalLength, with: rewrite)
    }
    return view.query.isEmpty ? path : path + "?" + view.query
  }

  // MARK: - Upstream response

  func upstreamResponseHead(_ head: HTTPResponseHead) {
    guard !finished else { return }
    responseStarted = true
    status = Int(head.status.code)
    upstreamKeepAlive = head.isKeepAlive
    let response = ProxyHeaders.downstreamResponse(
      from: head, keepAlive: keepAlive,
      manipulations: route?.config.responseManipulations(destination: destinationManipulation) ?? [])
    downstream.write(.head(response))
  }

  func upstreamResponseBody(_ buffer: ByteBuffer) {
    guard !finished else { return }
    bytesOut += buffer.readableBytes
    downstream.write(.body(.byteBuffer(buffer)))
  }

  func upstreamReadComplete() {
    guard !finished, let connection else { return }
    downstream.flush()
    if !downstream.context.channel.isWritable {
      connection.handler.holdReads(true, context: connection.context)
    }
  }

  func upstreamWritabilityChanged(isWritable: Bool) {
    if isWritable { downstream.release(.upstreamBusy) } else { downstream.hold(.upstreamBusy) }
  }

  func upstreamResponseEnd(_ trailers: HTTPHeaders?) {
    guard !finished else { return }
    responseComplete = true
    if let upstream, let endpoint {
      loop.recordOutcome(upstream: upstream, endpoint: endpoint, failed: status >= 500)
    }
    // A response that ends before the request was sent whole leaves the upstream connection unusable, and
    // the client's remaining body unread: both connections close.
    if !requestComplete { keepAlive = false }
    releaseConnection(reusable: upstreamRequestComplete && upstreamKeepAlive)
    downstream.writeEnd(trailers, closing: !keepAlive)
    finishIfDone()
  }

  func upstreamFailed(_ error: Error?) {
    guard !finished, connection != nil else { return }
    giveUpOnUpstream(.serviceUnavailable, body: "upstream connection reset\n", flag: .upstreamReset)
  }

  private func timedOut() {
    guard !finished else { return }
    loop.services.metrics.upstreamTimeouts.increment()
    giveUpOnUpstream(.gatewayTimeout, body: "upstream request timeout\n", flag: .upstreamTimeout)
  }

  /// Counts the failure against the endpoint and drops the connection. Before the response has started the
  /// client gets `status`; after, nothing more can be said and its connection is cut.
  private func giveUpOnUpstream(_ status: HTTPResponseStatus, body: String, flag: ResponseFlag) {
    if let upstream, let endpoint { loop.recordOutcome(upstream: upstream, endpoint: endpoint, failed: true) }
    releaseConnection(reusable: false)
    if responseStarted {
      flags.append(flag)
      keepAlive = false
      downstream.abort()
      complete()
    } else {
      respond(status, body: body, flag: flag)
    }
  }

  private func releaseConnection(reusable: Bool) {
    guard let connection else { return }
    self.connection = nil
    downstream.release(.upstreamBusy)
    connection.handler.receiver = nil
    pool?.release(connection, reusable: reusable)
  }

  // MARK: - Local answers

  /// Answers from the gateway itself. The rest of the request body, if any, is read and dropped.
  private func respond(
    _ status: HTTPResponseStatus, body: String?, headers extra: HTTPHeaders = [:], flag: ResponseFlag? = nil,
    manipulations: [HeaderManipulation] = []
  ) {
    guard !finished, !responseStarted else { return }
    if let flag { flags.append(flag) }
    responseStarted = true
    responseComplete = true
    self.status = Int(status.code)
    pendingBody = []
    pendingBytes = 0
    downstream.release(.buffering)
    if !requestComplete {
      discarding = true
      // A client still sending a large body is better closed than drained.
      if bytesIn > Self.discardLimit { keepAlive = false }
    }
    var headers = extra
    let bodyBytes = body.map { Array($0.utf8) } ?? []
    headers.add(name: "content-length", value: String(bodyBytes.count))
    if !bodyBytes.isEmpty { headers.add(name: "content-type", value: "text/plain; charset=utf-8") }
    headers.add(name: "x-request-id", value: requestID)
    for manipulation in manipulations {
      ProxyHeaders.apply(
        remove: manipulation.removeResponseHeaders, append: manipulation.appendResponseHeaders, to: &headers)
    }
    if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
    downstream.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
    if !bodyBytes.isEmpty, head.method != .HEAD {
      bytesOut += bodyBytes.count
      downstream.write(.body(.byteBuffer(ByteBuffer(bytes: bodyBytes))))
    }
    downstream.writeEnd(nil, closing: !keepAlive)
    finishIfDone()
  }

  // MARK: - Completion

  private func finishIfDone() {
    guard !finished, responseComplete, requestComplete || !keepAlive else { return }
    complete()
  }

  private func complete() {
    guard !finished else { return }
    finished = true
    if let timeoutSlot { loop.deadlines.remove(timeoutSlot) }
    timeoutSlot = nil
    if let poolTicket { pool?.cancel(ticket: poolTicket) }
    poolTicket = nil
    record()
    downstream.exchangeFinished(self, keepAlive: keepAlive && requestComplete)
  }

  private func record() {
    let now = NIODeadline.now()
    let duration = Double((now - started).nanoseconds) / 1e6
    let owner: AnyObject? = route ?? host
    loop.recordRequest(
      .init(
        owner: owner.map(ObjectIdentifier.init), destination: destinationIndex, statusClass: status / 100),
      owner: owner, host: hostName,
      route: routeName ?? "-", destination: destinationName, duration: now - started)
    guard loop.services.accessLog.isEnabled else { return }
    loop.services.accessLog.write(
      AccessRecord(
        time: startedAt, method: head.method.rawValue, authority: head.headers.first(name: "host") ?? "",
        path: head.uri, status: status, bytesIn: bytesIn, bytesOut: bytesOut, durationMilliseconds: duration,
        upstreamAddress: endpoint.map { "\($0.address):\($0.port)" },
        upstreamMilliseconds: upstreamStarted.map { Double((now - $0).nanoseconds) / 1e6 }, route: routeName,
        flags: flags, requestID: requestID))
  }
}
