import Foundation
import NIOCore
import PorticoAPI
import PorticoRouting
import PorticoTranslate

/// One request and its response: routing, then a local answer (direct response, redirect, error) or
/// forwarding to an upstream with both bodies streamed and backpressure in both directions.
final class Exchange: UpstreamResponseReceiver, ConnectionWaiter, DeadlineOwner {
  /// Request bytes kept while no upstream connection is ready; past this, reads from the client pause.
  static let pendingBodyLimit = 1 << 20
  /// Request bytes read and dropped after a local answer before the connection is closed instead.
  static let discardLimit = 1 << 20

  let downstream: DownstreamHandler
  let loop: LoopContext
  let config: ActiveConfig
  let request: RequestHead
  private let started = NIODeadline.now()
  private let startedAt: Date?
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
  private var route: RouteRuntime?
  private var destination: RouteRuntime.Destination?
  private var upstream: UpstreamLoopState?
  private var endpoint: EndpointState?
  /// How the matched path is rewritten, kept for when the connection is ready.
  private var rewrite: (path: String, match: RouteRuntime.PathMatch)?
  /// Set while this request waits in the pool's queue.
  private var poolTicket: Int?
  private var connection: UpstreamConnection?
  private var upstreamStarted: NIODeadline?
  /// Body pieces received while no upstream connection was ready.
  private var pendingBody: [ByteBuffer] = []
  private var pendingBytes = 0
  /// The request's trailers, once it has ended.
  private var requestTrailers: ByteBuffer?
  /// With `retries`: the tries so far and what a retry replays.
  private var retry: RetryProgress?
  private var tryTimeoutSlot: Int?
  private var retryTimer: Scheduled<Void>?
  /// The current try has asked its pool for a connection and not had one yet.
  private var awaitingConnection = false
  /// A copy of this request on its way to the route's mirror.
  private var mirror: MirrorRequest?
  private var upstreamRequestComplete = false
  private var upstreamKeepAlive = true
  private var responseStarted = false
  private var responseComplete = false
  /// The request on its way upstream and the response on its way to the client.
  private var toUpstream: OutgoingMessage?
  private var toClient: OutgoingMessage?
  /// Request body was written upstream since the last flush.
  private var upstreamUnflushed = false
  /// The upstream switched protocols (WebSocket): bytes flow both ways as they are until either side
  /// closes.
  private(set) var isTunnel = false
  private var discarding = false
  /// `100 Continue` went to the client, which is now sending its body.
  private var sentContinue = false
  /// A delay injected by `faultInjection`, until it runs out.
  private var faultDelay: Scheduled<Void>?
  /// Set for a request from an origin the route's `corsPolicy` allows: added to the response.
  private var corsFields: [(name: String, value: String)]?
  /// The slot of this request's deadline in the loop's tracker.
  private var timeoutSlot: Int?
  /// A gRPC call (which only HTTP/2 carries): the gateway's own errors are said as gRPC statuses.
  private lazy var isGRPC =
    downstream.isStream && request.containsHeader("content-type") { GRPCCalls.isCall(contentType: $0) }

  init(downstream: DownstreamHandler, request: RequestHead) {
    self.downstream = downstream
    self.loop = downstream.loop
    self.config = downstream.loop.config
    self.request = request
    self.keepAlive = request.keepAlive && !downstream.loop.isDraining
    self.startedAt = downstream.loop.services.accessLog.isEnabled ? Date() : nil
  }

  // MARK: - Request

  func start() {
    requestID = request.head.firstValue(of: .xRequestID).map(String.init) ?? loop.random.requestID()
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
      if let cors = route.cors, let origin = firstValue(of: "origin"), cors.allows(origin: origin) {
        if request.methodKind == .options, firstValue(of: "access-control-request-method") != nil {
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

  /// `csrf`: whether this state-changing request comes from another site and is refused (in shadow mode
  /// it is only counted).
  private func refusesForeignOrigin(_ csrf: CSRFRuntime) -> Bool {
    switch request.methodKind {
    case .post, .put, .patch: break
    case .other where request.method == "DELETE": break
    default: return false
    }
    guard csrf.share.includes(random: &loop.random),
      let origin = firstValue(of: "origin") ?? firstValue(of: "referer"),
      csrf.isForeign(origin: origin, authority: request.authority)
    else { return false }
    if csrf.enforces {
      loop.services.metrics.csrfRefused.increment()
      return true
    }
    loop.services.metrics.csrfShadowed.increment()
    return false
  }

  /// Answers or forwards a request its route has matched.
  private func serve(_ route: RouteRuntime, match: CompiledRouter.Match) {
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

  /// `faultInjection`: waits out the delay (before the request timeout starts), then aborts with the
  /// status or goes on.
  private func injectFault(delay: TimeAmount?, abort: Int?, then proceed: @escaping (Exchange) -> Void) {
    guard let delay else {
      return respond(abort!, body: "fault filter abort\n", flag: .faultInjected)
    }
    flags.append(.delayInjected)
    faultDelay = loop.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
      faultDelay = nil
      guard !finished else { return }
      if let abort {
        respond(abort, body: "fault filter abort\n", flag: .faultInjected)
      } else {
        proceed(self)
      }
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

  /// The body is larger than the route allows (known from Content-Length, or counted as it streams in):
  /// 413, and neither connection carries anything more, since the rest of the body is not read.
  private func refuseBody() {
    keepAlive = false
    releaseConnection(reusable: false)
    if responseStarted {
      endStartedResponse(413, message: "request body too large")
    } else {
      respond(413, body: "request body too large\n")
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

  private func forward(_ forward: RouteRuntime.Forward, pathMatch: RouteRuntime.PathMatch) {
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
    if route?.retry != nil { retry = RetryProgress() }
    startTry()
  }

  /// Sends a copy of the request to the route's mirror, on its own from here on.
  private func startMirror(_ target: MirrorRuntime, timeout: TimeAmount) {
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

  /// Sends the request to an endpoint (one not tried yet, when retrying and another is healthy).
  private func startTry() {
    guard let upstream else { return }
    let now = NIODeadline.now()
    guard
      let endpoint = upstream.pickEndpoint(now: now, random: &loop.random, avoiding: retry?.tried ?? [])
    else {
      return respond(503, body: "no healthy upstream\n", flag: .noHealthyUpstream)
    }
    self.endpoint = endpoint
    retry?.started(on: endpoint)
    if let perTry = route?.retry?.perTryTimeout {
      tryTimeoutSlot = loop.deadlines.add(deadline: now + perTry, owner: TryDeadline(self))
    }
    upstreamStarted = now
    upstreamRequestComplete = false
    awaitingConnection = true
    if let retry {
      poolTicket = endpoint.pool.acquire(for: TryWaiter(self, try: retry.tries, endpoint: endpoint))
    } else {
      poolTicket = endpoint.pool.acquire(for: self)
    }
  }

  /// Whether a connection for try `number` is still wanted.
  func isAwaitingConnection(forTry number: Int) -> Bool {
    awaitingConnection && retry?.tries == number
  }

  /// After a failed try: whether another one is allowed (tries left, a body that can be replayed, a
  /// response not yet begun, the upstream's retry budget). If so it starts after a back-off.
  ///
  /// The failed try counts against its endpoint's health here, unless the caller has `recorded` it.
  private func retryIfAllowed(recorded: Bool = false) -> Bool {
    guard let policy = route?.retry, var progress = retry, let upstream, !finished, !responseStarted,
      progress.isReplayable, progress.tries <= policy.attempts
    else {
      if let retry, let policy = route?.retry, retry.tries > policy.attempts {
        flags.append(.retryLimitExceeded)
      }
      return false
    }
    if !progress.holdsBudget {
      guard upstream.admitsRetry else {
        loop.services.metrics.retriesOverBudget.increment()
        flags.append(.retryLimitExceeded)
        return false
      }
      upstream.retriesInFlight += 1
      progress.holdsBudget = true
    }
    retry = progress
    loop.services.metrics.retries.increment()
    if !recorded, let endpoint { loop.recordOutcome(upstream, endpoint: endpoint, failed: true) }
    endTry()
    let delay = RetryRuntime.backoff(retry: progress.tries, random: &loop.random)
    retryTimer = loop.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
      retryTimer = nil
      guard !finished else { return }
      startTry()
    }
    return true
  }

  /// Lets go of what the current try holds: its connection and its deadline.
  private func endTry() {
    awaitingConnection = false
    if let tryTimeoutSlot { loop.deadlines.remove(tryTimeoutSlot) }
    tryTimeoutSlot = nil
    if let poolTicket { endpoint?.pool.cancel(ticket: poolTicket) }
    poolTicket = nil
    releaseConnection(reusable: false)
    toUpstream = nil
  }

  /// The current try took longer than `perTryTimeout`.
  func tryTimedOut() {
    tryTimeoutSlot = nil
    guard !finished, !responseStarted else { return }
    loop.services.metrics.upstreamTimeouts.increment()
    if retryIfAllowed() { return }
    giveUpOnUpstream(504, body: "upstream request timeout\n", flag: .upstreamTimeout)
  }

  /// A gRPC caller's `grpc-timeout`: the call is over for it then, whatever the route allows.
  private func callerDeadline() -> TimeAmount? {
    firstValue(of: "grpc-timeout").flatMap(GRPCCalls.timeout)
  }

  /// What `%NAME%` in the plan's values stands for; nil when the plan uses no variable.
  private func variables(for plan: HeaderPlan) -> HeaderVariables? {
    guard plan.usesVariables else { return nil }
    return HeaderVariables(
      request: request, clientAddress: downstream.clientAddress, requestID: requestID,
      routeName: routeName ?? "",
      protocolName: downstream.isStream ? "HTTP/2" : request.isHTTP10 ? "HTTP/1.0" : "HTTP/1.1")
  }

  /// The first value of the request field named `lowercasedName`.
  private func firstValue(of lowercasedName: String) -> Substring? {
    for field in request.head.fields where request.head.isNamed(field, lowercasedName) {
      return request.head.value(of: field)
    }
    return nil
  }

  func connectionReady(_ result: Result<UpstreamConnection, UpstreamFailure>) {
    poolTicket = nil
    awaitingConnection = false
    switch result {
    case .failure(let failure):
      guard !finished else { return }
      switch failure {
      case .poolOverflow:
        // A full pool says the gateway is busy, not that the endpoint is unhealthy.
        respond(503, body: "upstream overflow\n", flag: .upstreamOverflow)
      case .connectFailed, .connectTimeout:
        if let upstream, let endpoint { loop.recordOutcome(upstream, endpoint: endpoint, failed: true) }
        loop.services.metrics.upstreamConnectErrors.increment()
        if retryIfAllowed(recorded: true) { return }
        respond(503, body: "upstream connect error\n", flag: .upstreamConnectFailure)
      }
    case .success(let connection):
      // The exchange was answered meanwhile (a timeout, a refusal): the connection goes back unused.
      guard !finished, !responseStarted, let destination else {
        endpoint?.pool.release(connection, reusable: true)
        return
      }
      self.connection = connection
      connection.handler.expectResponse(
        receiver: self, toHEAD: request.methodKind == .head, upgrade: request.upgradesToWebSocket)
      let target = upstreamTarget()
      var head = connection.allocator.buffer(
        capacity: request.head.text.utf8.count + 256 + min(pendingBytes, OutgoingMessage.gatherLimit))
      HeadWriter.upstreamRequest(
        request, target: target, scheme: downstream.scheme, clientAddress: downstream.clientAddress,
        requestID: requestID, attempt: retry?.tries, plan: destination.requestPlan,
        variables: variables(for: destination.requestPlan), into: &head)
      var message = OutgoingMessage(head: head, chunked: request.framing == .chunked)
      // A retry sends the whole body kept so far; a first try what arrived while it waited.
      for piece in (retry.map { $0.tries > 1 ? $0.replay : pendingBody } ?? pendingBody) {
        message.append(piece, to: connection)
      }
      pendingBody = []
      pendingBytes = 0
      if requestComplete {
        message.finish(trailers: requestTrailers, to: connection)
        upstreamRequestComplete = true
      } else {
        message.send(to: connection)
      }
      toUpstream = message
      connection.flush()
      downstream.release(.buffering)
      if !connection.channel.isWritable { downstream.hold(.upstreamBusy) }
    }
  }

  /// The path (rewritten when the route says so) and the query, as sent upstream.
  private func upstreamTarget() -> Substring {
    guard let rewrite else { return request.originForm }
    let path =
      rewrite.match.isExact
      ? rewrite.path
      : PathRewriting.replacePrefix(
        of: request.path, matchedLength: rewrite.match.literalLength, with: rewrite.path)
    let query = request.query
    return query.isEmpty ? path[...] : (path + "?" + query)[...]
  }

  // MARK: - Upstream response

  func upstreamResponseHead(_ response: ResponseHead, framing: BodyFraming) {
    guard !finished else { return }
    // A retried answer is dropped unread, and its connection with it.
    if RetryRuntime.retries(status: response.status), retry != nil, retryIfAllowed() { return }
    if let tryTimeoutSlot { loop.deadlines.remove(tryTimeoutSlot) }
    tryTimeoutSlot = nil
    responseStarted = true
    status = response.status
    upstreamKeepAlive = response.keepAlive && framing != .untilClose
    var downstreamFraming = HeadWriter.ResponseFraming()
    var chunked = false
    var expectedBody = 0
    if response.status == 101 {
      // The handshake succeeded: from here on the exchange is a byte stream, ended by either side
      // closing; the request timeout no longer applies.
      isTunnel = true
      keepAlive = false
      downstreamFraming.switchesProtocols = true
      if let timeoutSlot { loop.deadlines.remove(timeoutSlot) }
      timeoutSlot = nil
      downstream.startTunnel()
    } else {
      switch framing {
      case .none:
        break
      case .length(let length):
        expectedBody = length
      case .chunked:
        if request.isHTTP10 {
          // An HTTP/1.0 client cannot read chunks: the body goes raw and the connection's end ends it.
          downstreamFraming.dropsTransferEncoding = true
          keepAlive = false
        } else {
          chunked = true
        }
      case .untilClose:
        if request.isHTTP10 {
          keepAlive = false
        } else {
          // Chunking is added after any coding the upstream listed (`gzip` becomes `gzip, chunked`).
          downstreamFraming.addsChunked = true
          chunked = true
        }
      }
    }
    var head = downstream.allocator.buffer(
      capacity: response.head.text.utf8.count + 64 + min(expectedBody, OutgoingMessage.gatherLimit))
    HeadWriter.downstreamResponse(
      response, framing: downstreamFraming, keepAlive: keepAlive, clientIsHTTP10: request.isHTTP10,
      plan: destination?.responsePlan ?? .none, cors: corsFields,
      variables: variables(for: destination?.responsePlan ?? .none), into: &head)
    toClient = OutgoingMessage(head: head, chunked: chunked)
  }

  func upstreamResponseBody(_ buffer: ByteBuffer) {
    guard !finished else { return }
    bytesOut += buffer.readableBytes
    if isTunnel { downstream.noteTunnelActivity() }
    toClient?.append(buffer, to: downstream)
  }

  func upstreamReadComplete() {
    guard !finished, let connection else { return }
    toClient?.send(to: downstream)
    downstream.flush()
    if !downstream.context.channel.isWritable {
      connection.handler.holdReads(true, context: connection.context)
    }
  }

  func upstreamWritabilityChanged(isWritable: Bool) {
    if isWritable { downstream.release(.upstreamBusy) } else { downstream.hold(.upstreamBusy) }
  }

  func upstreamResponseEnd(_ trailers: ByteBuffer?) {
    guard !finished else { return }
    responseComplete = true
    if let upstream, let endpoint { loop.recordOutcome(upstream, endpoint: endpoint, failed: status >= 500) }
    // A response that ends before the request was sent whole leaves the upstream connection unusable, and
    // the client's remaining body unread: both connections close.
    if !requestComplete { keepAlive = false }
    releaseConnection(reusable: upstreamRequestComplete && upstreamKeepAlive)
    toClient?.finish(trailers: trailers, to: downstream)
    downstream.finishResponse(closing: !keepAlive)
    finishIfDone()
  }

  func upstreamFailed(_ error: Error?) {
    guard !finished, connection != nil else { return }
    if error == nil, !responseStarted, retry != nil, retryIfAllowed() { return }
    if let error = error as? HTTP1Error {
      giveUpOnUpstream(
        502, body: "upstream sent an invalid response: \(error.reason)\n", flag: .upstreamProtocolError)
    } else {
      giveUpOnUpstream(503, body: "upstream connection reset\n", flag: .upstreamReset)
    }
  }

  func deadlinePassed() {
    // The tracker has freed the slot; it may already belong to another request.
    timeoutSlot = nil
    guard !finished else { return }
    loop.services.metrics.upstreamTimeouts.increment()
    giveUpOnUpstream(504, body: "upstream request timeout\n", flag: .upstreamTimeout)
  }

  /// Counts the failure against the endpoint and drops the connection. Before the response has started the
  /// client gets `status`; after, nothing more can be said and its connection is cut.
  private func giveUpOnUpstream(_ status: Int, body: String, flag: ResponseFlag) {
    if let upstream, let endpoint { loop.recordOutcome(upstream, endpoint: endpoint, failed: true) }
    releaseConnection(reusable: false)
    if responseStarted {
      flags.append(flag)
      endStartedResponse(status, message: body.trimmingCharacters(in: .newlines))
    } else {
      respond(status, body: body, flag: flag)
    }
  }

  /// Nothing more can be said on a response that has begun: the client's connection is cut, except that a
  /// gRPC call still ends with a status, in its trailers.
  private func endStartedResponse(_ status: Int, message: String) {
    keepAlive = false
    if isGRPC, var toClient, toClient.isChunked {
      responseComplete = true
      toClient.finish(
        trailers: GRPCCalls.trailers(httpStatus: status, message: message, allocator: downstream.allocator),
        to: downstream)
      self.toClient = nil
      downstream.finishResponse(closing: true)
    } else {
      downstream.abort()
    }
    complete()
  }

  private func releaseConnection(reusable: Bool) {
    guard let connection else { return }
    self.connection = nil
    downstream.release(.upstreamBusy)
    endpoint?.pool.release(connection, reusable: reusable)
  }

  // MARK: - Local answers

  /// Answers from the gateway itself. The rest of the request body, if any, is read and dropped.
  private func respond(
    _ status: Int, body: String?, fields extra: [(name: String, value: String)] = [],
    flag: ResponseFlag? = nil,
    plan: HeaderPlan = .none
  ) {
    guard !finished, !responseStarted else { return }
    if let flag { flags.append(flag) }
    responseStarted = true
    // A request still waiting for an upstream connection gives up its place.
    if let poolTicket { endpoint?.pool.cancel(ticket: poolTicket) }
    poolTicket = nil
    responseComplete = true
    self.status = status
    pendingBody = []
    pendingBytes = 0
    downstream.release(.buffering)
    if !requestComplete {
      discarding = true
      // A client still waiting for `100 Continue` may never send the body it announced.
      if request.expectsContinue, !sentContinue { keepAlive = false }
      // A client still sending a large body is better closed than drained.
      if bytesIn > Self.discardLimit { keepAlive = false }
    }
    var fields = extra + (corsFields ?? [])
    var body = body
    var wireStatus = status
    if status >= 400, isGRPC {
      // A gRPC client reads the outcome from `grpc-status`: a "trailers-only" response (status 200, no
      // body). The access log and metrics keep the HTTP status the error stands for.
      fields.append(("content-type", "application/grpc"))
      fields += GRPCCalls.statusFields(
        httpStatus: status, message: body?.trimmingCharacters(in: .newlines) ?? "")
      body = nil
      wireStatus = 200
    }
    let bodyBytes = body?.utf8.count ?? 0
    fields.append(("content-length", String(bodyBytes)))
    if bodyBytes > 0 { fields.append(("content-type", "text/plain; charset=utf-8")) }
    fields.append(("x-request-id", requestID))
    var buffer = downstream.allocator.buffer(capacity: 256 + bodyBytes)
    HeadWriter.localResponse(
      status: wireStatus, fields: fields, keepAlive: keepAlive, clientIsHTTP10: request.isHTTP10, plan: plan,
      variables: variables(for: plan), into: &buffer)
    if let body, bodyBytes > 0, request.methodKind != .head {
      bytesOut += bodyBytes
      buffer.writeString(body)
    }
    downstream.write(buffer)
    downstream.finishResponse(closing: !keepAlive)
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
    faultDelay?.cancel()
    faultDelay = nil
    retryTimer?.cancel()
    retryTimer = nil
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

  private func record() {
    let now = NIODeadline.now()
    let owner: AnyObject? = route ?? host
    loop.recordRequest(
      .init(
        owner: owner.map(ObjectIdentifier.init), destination: destinationIndex, statusClass: status / 100),
      owner: owner, host: hostName,
      route: routeName ?? "-", destination: destinationName, duration: now - started)
    guard let startedAt else { return }
    loop.services.accessLog.write(
      AccessRecord(
        time: startedAt, method: String(request.method), authority: String(request.authority),
        path: String(request.originForm), status: status, bytesIn: bytesIn, bytesOut: bytesOut,
        durationMilliseconds: Double((now - started).nanoseconds) / 1e6,
        upstreamAddress: endpoint?.key,
        upstreamMilliseconds: upstreamStarted.map { Double((now - $0).nanoseconds) / 1e6 }, route: routeName,
        flags: flags, requestID: requestID))
  }
}
