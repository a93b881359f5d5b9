import Foundation
import NIOCore
import PorticoAPI
import PorticoRouting
import PorticoTranslate

/// One request and its response: routing, then a local answer (direct response, redirect, error) or
/// forwarding to an upstream with both bodies streamed and backpressure in both directions. The request
/// side and completion are here; the upstream side, retries and local answers are in the `Exchange+`
/// files beside it.
final class Exchange: UpstreamResponseReceiver, ConnectionWaiter, DeadlineOwner {
  /// Request bytes kept while no upstream connection is ready; past this, reads from the client pause.
  static let pendingBodyLimit = 1 << 20
  /// Request bytes read and dropped after a local answer before the connection is closed instead.
  static let discardLimit = 1 << 20

  let downstream: DownstreamHandler
  let loop: LoopContext
  let config: ActiveConfig
  let request: RequestHead
  let started = NIODeadline.now()
  let startedAt: Date?
  var requestComplete = false
  var keepAlive: Bool
  var requestID = RequestID.given("")
  var finished = false

  // What the access log and metrics report.
  var status = 0
  var bytesIn = 0
  var bytesOut = 0
  var flags: [ResponseFlag] = []
  var hostName = "-"
  var routeName: String?
  var destinationName = "-"
  var destinationIndex = -1
  var host: CompiledHost?

  // Forwarding state.
  var route: RouteRuntime?
  var destination: RouteRuntime.Destination?
  var upstream: UpstreamLoopState?
  var endpoint: EndpointState?
  /// How the matched path is rewritten, kept for when the connection is ready.
  var rewrite: (path: String, match: RouteRuntime.PathMatch)?
  /// Set while this request waits in the pool's queue.
  var poolTicket: Int?
  var connection: UpstreamConnection?
  var upstreamStarted: NIODeadline?
  /// Body pieces received while no upstream connection was ready.
  var pendingBody: [ByteBuffer] = []
  var pendingBytes = 0
  /// The request's trailers, once it has ended.
  var requestTrailers: ByteBuffer?
  /// With `retries`: the tries so far and what a retry replays.
  var retry: RetryProgress?
  var tryTimeoutSlot: Int?
  var retryTimer: Scheduled<Void>?
  /// The current try has asked its pool for a connection and not had one yet.
  var awaitingConnection = false
  /// A copy of this request on its way to the route's mirror.
  var mirror: MirrorRequest?
  var upstreamRequestComplete = false
  var upstreamKeepAlive = true
  var responseStarted = false
  var responseComplete = false
  /// The request on its way upstream and the response on its way to the client.
  var toUpstream: OutgoingMessage?
  var toClient: OutgoingMessage?
  /// Request body was written upstream since the last flush.
  var upstreamUnflushed = false
  /// The upstream switched protocols (WebSocket): bytes flow both ways as they are until either side
  /// closes.
  var isTunnel = false
  var discarding = false
  /// `100 Continue` went to the client, which is now sending its body.
  var sentContinue = false
  /// A delay injected by `faultInjection`, until it runs out.
  var faultDelay: Scheduled<Void>?
  /// Set for a request from an origin the route's `corsPolicy` allows: added to the response.
  var corsFields: [(name: String, value: String)]?
  /// The slot of this request's deadline in the loop's tracker.
  var timeoutSlot: Int?
  /// A gRPC call (which only HTTP/2 carries): the gateway's own errors are said as gRPC statuses.
  lazy var isGRPC =
    downstream.isStream && request.containsHeader("content-type") { GRPCCalls.isCall(contentType: $0) }

  init(downstream: DownstreamHandler, request: RequestHead) {
    self.downstream = downstream
    self.loop = downstream.loop
    self.config = downstream.loop.config
    self.request = request
    self.keepAlive = request.keepAlive && !downstream.loop.isDraining
    self.startedAt = downstream.loop.accessLog.isEnabled ? Date() : nil
  }

  // MARK: - Request

  func start() {
    requestID = request.head.firstValue(of: .xRequestID).map(RequestID.given) ?? loop.random.requestID()
    guard let listener = config.listeners[downstream.portName] else {
      return respond(404, body: "no route\n", flag: .noRoute)
    }
    let router: CompiledRouter
    if let tls = downstream.tls {
      guard let termination = listener.tlsChains.chain(forServerName: tls.serverName)?.termination else {
        return respond(404, body: "no route\n", flag: .noRoute)
      }
      if termination.verifiesClients,
        !tls.verifiesClients || termination.verifySubjectAltNames != tls.verifySubjectAltNames
      {
        // A reload made the chain ask more of clients than this connection's handshake did: the client
        // must connect again and show its certificate (RFC 9110 §15.5.20).
        keepAlive = false
        downstream.goAway()
        return respond(421, body: "this connection's TLS handshake no longer qualifies; connect again\n")
      }
      router = termination.router
    } else {
      if listener.redirectsToHTTPS {
        let host = Authority.host(of: request.authority)
        return respond(301, body: nil, fields: [("location", "https://\(host)\(request.originForm)")])
      }
      router = listener.router
    }
    switch router.route(request) {
    case .noHost:
      respond(404, body: "no virtual host serves this authority\n", flag: .noHost)
    case .noRoute(let host):
      hostName = host.config.name
      self.host = host
      respond(404, body: "no route matches\n", flag: .noRoute)
    case .matched(let match):
      guard let route = match.route.runtime as? RouteRuntime else {
        return respond(500, body: "route not ready\n")
      }
      self.route = route
      self.host = match.host
      hostName = match.host.name
      routeName = route.name
      if route.isReplacement { flags.append(.invalidRoute) }
      if route.maxRequestBodyBytes > 0, case .length(let length) = request.framing,
        length > route.maxRequestBodyBytes
      {
        return refuseBody()
      }
      if let cors = route.cors, let origin = request.head.firstValue(named: "origin"),
        cors.allows(origin: origin)
      {
        if request.methodKind == .options,
          request.head.firstValue(named: "access-control-request-method") != nil
        {
          // A preflight: answered here, never forwarded.
          return respond(
            200, body: nil, fields: cors.preflightFields(origin: String(origin)),
            plan: route.localResponsePlan)
        }
        corsFields = cors.responseFields(origin: String(origin))
      }
      if let csrf = route.csrf, refusesForeignOrigin(csrf) {
        return respond(403, body: "Invalid origin\n", plan: route.localResponsePlan)
      }
      if let fault = route.fault {
        let delay = fault.delay.flatMap { fault.applies(random: &loop.random) ? $0 : nil }
        let abort = fault.abortStatus.flatMap { fault.applies(random: &loop.random) ? $0 : nil }
        if delay != nil || abort != nil {
          return injectFault(delay: delay, abort: abort) { $0.serve(route, match: match) }
        }
      }
      serve(route, match: match)
    }
  }

  /// Answers or forwards a request its route has matched.
  func serve(_ route: RouteRuntime, match: CompiledRouter.Match) {
    switch route.action {
    case .direct(let status, let body):
      respond(status, body: body, plan: route.localResponsePlan)
    case .redirect(let redirect):
      let location = Redirects.location(
        for: redirect, request: request, scheme: downstream.scheme,
        pathMatch: route.pathMatch(at: match.matcherIndex))
      respond(
        (redirect.responseCode ?? .movedPermanently).status, body: nil, fields: [("location", location)],
        plan: route.localResponsePlan)
    case .forward(let forward):
      self.forward(forward, pathMatch: route.pathMatch(at: match.matcherIndex))
    }
  }

  func requestBody(_ buffer: ByteBuffer) {
    bytesIn += buffer.readableBytes
    if let limit = route?.maxRequestBodyBytes, limit > 0, bytesIn > limit, !isTunnel, !discarding, !finished {
      return refuseBody()
    }
    retry?.keep(buffer)
    mirror?.requestBody(buffer)
    if let connection {
      toUpstream?.append(buffer, to: connection)
      upstreamUnflushed = true
      if !connection.channel.isWritable { downstream.hold(.upstreamBusy) }
    } else if discarding || finished {
      if bytesIn > Self.discardLimit {
        // Too much to throw away: end the connection instead of reading it all.
        keepAlive = false
        downstream.abort()
      }
    } else {
      pendingBody.append(buffer)
      pendingBytes += buffer.readableBytes
      if pendingBytes > Self.pendingBodyLimit { downstream.hold(.buffering) }
    }
  }

  func requestEnd(_ trailers: ByteBuffer?) {
    requestComplete = true
    requestTrailers = trailers
    mirror?.requestEnd(trailers)
    mirror = nil
    if let connection {
      toUpstream?.finish(trailers: trailers, to: connection)
      connection.flush()
      upstreamUnflushed = false
      upstreamRequestComplete = true
    }
    finishIfDone()
  }

  /// The request body broke its framing: nothing more can be read from this client.
  func requestFailed(_ error: HTTP1Error) {
    keepAlive = false
    releaseConnection(reusable: false)
    if responseStarted {
      flags.append(.downstreamProtocolError)
      downstream.abort()
      complete()
    } else {
      respond(error.status, body: error.reason + "\n", flag: .downstreamProtocolError)
    }
  }

  func downstreamReadComplete() {
    guard upstreamUnflushed, let connection else { return }
    upstreamUnflushed = false
    connection.flush()
  }

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

  func forward(_ forward: RouteRuntime.Forward, pathMatch: RouteRuntime.PathMatch) {
    guard let picked = forward.pickDestination(random: &loop.random),
      let runtime = forward.destinations[picked].upstream
    else {
      return respond(503, body: "no healthy upstream\n", flag: .noHealthyUpstream)
    }
    let destination = forward.destinations[picked]
    self.destination = destination
    destinationName = destination.name
    destinationIndex = picked
    self.upstream = loop.state(of: runtime)
    let now = NIODeadline.now()
    var timeout = forward.timeout
    if isGRPC, let requested = callerDeadline(), timeout.nanoseconds == 0 || requested < timeout {
      // A deadline of zero has passed already: the call is not forwarded.
      guard requested.nanoseconds > 0 else {
        return respond(504, body: "deadline exceeded before forwarding\n", flag: .upstreamTimeout)
      }
      timeout = requested
    }
    if timeout.nanoseconds > 0 {
      timeoutSlot = loop.deadlines.add(deadline: now + timeout, owner: self)
    }
    if request.expectsContinue, !request.isHTTP10, !requestComplete {
      // The gateway answers 100-continue itself, once it knows the body will be used, and does not
      // forward Expect. A request answered earlier gets its final status instead (RFC 9110 §10.1.1).
      downstream.write(HeadWriter.continueResponse)
      downstream.flush()
      sentContinue = true
    }
    if let path = forward.pathRewrite { rewrite = (path, pathMatch) }
    if let mirror = route?.mirror, mirror.share.includes(random: &loop.random) {
      startMirror(mirror, timeout: timeout.nanoseconds > 0 ? timeout : RouteRuntime.defaultRequestTimeout)
    }
    if route?.retry != nil {
      // Body that arrived before forwarding (during a fault delay, say) is part of what a retry replays.
      var progress = RetryProgress()
      for piece in pendingBody { progress.keep(piece) }
      retry = progress
    }
    startTry()
  }

  /// Sends a copy of the request to the route's mirror, on its own from here on.
  func startMirror(_ target: MirrorRuntime, timeout: TimeAmount) {
    guard let destination else { return }
    var head = downstream.allocator.buffer(capacity: request.head.text.utf8.count + 256)
    HeadWriter.upstreamRequest(
      request, target: upstreamTarget(), scheme: downstream.scheme, clientAddress: downstream.clientAddress,
      requestID: requestID, shadow: true, plan: destination.requestPlan,
      variables: variables(for: destination.requestPlan), into: &head)
    guard
      let mirror = MirrorRequest(of: request, head: head, to: target.upstream, timeout: timeout, loop: loop)
    else { return }
    for piece in pendingBody { mirror.requestBody(piece) }
    if requestComplete { mirror.requestEnd(requestTrailers) } else { self.mirror = mirror }
  }

  /// A gRPC caller's `grpc-timeout`: the call is over for it then, whatever the route allows.
  func callerDeadline() -> TimeAmount? {
    request.head.firstValue(named: "grpc-timeout").flatMap(GRPCCalls.timeout)
  }

  /// What `%NAME%` in the plan's values stands for; nil when the plan uses no variable.
  func variables(for plan: HeaderPlan) -> HeaderVariables? {
    guard plan.usesVariables else { return nil }
    return HeaderVariables(
      request: request, clientAddress: downstream.clientAddress, requestID: requestID,
      routeName: routeName ?? "",
      protocolName: downstream.isStream ? "HTTP/2" : request.isHTTP10 ? "HTTP/1.0" : "HTTP/1.1")
  }

  // MARK: - Completion

  func finishIfDone() {
    guard !finished, responseComplete, requestComplete || !keepAlive else { return }
    complete()
  }

  func complete() {
    guard !finished else { return }
    finished = true
    faultDelay?.cancel()
    faultDelay = nil
    retryTimer?.cancel()
    retryTimer = nil
    mirror?.cancel()
    mirror = nil
    if let tryTimeoutSlot { loop.deadlines.remove(tryTimeoutSlot) }
    tryTimeoutSlot = nil
    if retry?.holdsBudget == true { upstream?.retriesInFlight -= 1 }
    if let timeoutSlot { loop.deadlines.remove(timeoutSlot) }
    timeoutSlot = nil
    if let poolTicket { endpoint?.pool.cancel(ticket: poolTicket) }
    poolTicket = nil
    releaseConnection(reusable: false)
    record()
    downstream.exchangeFinished(self, keepAlive: keepAlive && requestComplete)
  }

  func record() {
    let now = NIODeadline.now()
    let owner: AnyObject? = route ?? host
    loop.recordRequest(
      .init(
        owner: owner.map(ObjectIdentifier.init), destination: destinationIndex, statusClass: status / 100),
      owner: owner, host: hostName,
      route: routeName ?? "-", destination: destinationName, duration: now - started)
    guard let startedAt else { return }
    loop.accessLog.append(
      AccessRecord(
        time: startedAt, method: request.method, authority: request.authority, path: request.originForm,
        status: status, bytesIn: bytesIn, bytesOut: bytesOut, duration: now - started,
        upstreamAddress: endpoint?.key, upstreamDuration: upstreamStarted.map { now - $0 }, route: routeName,
        flags: flags, requestID: requestID))
  }
}
