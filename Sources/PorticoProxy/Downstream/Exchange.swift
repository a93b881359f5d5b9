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
  let downstream: DownstreamHandler
  let loop: LoopContext
  let config: ActiveConfig
  let request: RequestHead
  let started = NIODeadline.now()
  private let startedAt: Date?
  /// The client has sent the whole request.
  var requestComplete = false
  /// The body that goes upstream is whole: the client's, as the route's filters let it through.
  var bodyComplete = false
  /// The length of the body the filters hold whole and hand on after the head.
  var filteredBodyLength: Int?
  var keepAlive: Bool
  var requestID = RequestID.given("")
  var finished = false

  // What the access log and metrics report.
  var status = 0
  var bytesIn = 0
  var bytesOut = 0
  var flags: [ResponseFlag] = []
  private var hostName = "-"
  private var routeName: String?
  private var destinationName = "-"
  private var destinationIndex = -1
  private var host: CompiledHost?

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
  private var mirror: MirrorRequest?
  var upstreamRequestComplete = false
  var upstreamKeepAlive = true
  var responseStarted = false
  var responseComplete = false
  /// The request on its way upstream and the response on its way to the client.
  var toUpstream: OutgoingMessage?
  var toClient: OutgoingMessage?
  /// Request body was written upstream since the last flush.
  private var upstreamUnflushed = false
  /// The upstream switched protocols (WebSocket): bytes flow both ways as they are until either side
  /// closes.
  var isTunnel = false
  var discarding = false
  /// `100 Continue` went to the client, which is now sending its body.
  var sentContinue = false
  /// The route's filters at work on this request; nil for a route without filters.
  var filterRun: FilterRun?
  /// Which of the route's matchers matched, for its action once the filters have passed the request.
  private var matcherIndex = 0
  /// The upstream's response head while response filters hold it.
  var heldResponse: (head: ResponseHead, framing: BodyFraming)?
  /// When the request times out, and its slot in the loop's tracker.
  var deadline: NIODeadline?
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
      matcherIndex = match.matcherIndex
      guard let filters = route.filters else { return serve(route) }
      // The request's deadline covers the time its filters take.
      setDeadline(route.requestTimeout.nanoseconds > 0 ? .now() + route.requestTimeout : nil)
      let run = FilterRun(
        filters: filters, request: request, loop: loop, clientAddress: downstream.clientAddress,
        routeName: route.name, host: self)
      filterRun = run
      run.start()
    }
  }

  /// Answers or forwards a request its route has matched.
  func serve(_ route: RouteRuntime) {
    switch route.action {
    case .direct(let status, let body):
      respond(status, body: body, plan: route.localResponsePlan)
    case .redirect(let redirect):
      let location = Redirects.location(
        for: redirect, request: request, scheme: downstream.scheme,
        pathMatch: route.pathMatch(at: matcherIndex))
      respond(
        (redirect.responseCode ?? .movedPermanently).status, body: nil, fields: [("location", location)],
        plan: route.localResponsePlan)
    case .forward(let forward):
      self.forward(forward, pathMatch: route.pathMatch(at: matcherIndex))
    }
  }

  func requestBody(_ buffer: ByteBuffer) {
    bytesIn += buffer.readableBytes
    if let filterRun, !isTunnel, !discarding, !finished, !filterRun.passesRequestBody {
      return filterRun.requestBody(buffer)
    }
    passRequestBody(buffer)
  }

  /// Request body on its way upstream (through the route's filters, when it has any).
  func passRequestBody(_ buffer: ByteBuffer) {
    retry?.keep(buffer)
    mirror?.requestBody(buffer)
    if let connection {
      toUpstream?.append(buffer, to: connection)
      upstreamUnflushed = true
      if !connection.channel.isWritable { downstream.hold(.upstreamBusy) }
    } else if discarding || finished {
      if BodyBound.discard.isExceeded(by: bytesIn) {
        // Too much to throw away: end the connection instead of reading it all.
        keepAlive = false
        downstream.abort()
      }
    } else {
      pendingBody.append(buffer)
      pendingBytes += buffer.readableBytes
      if BodyBound.pending.isExceeded(by: pendingBytes) { downstream.hold(.buffering) }
    }
  }

  func requestEnd(_ trailers: ByteBuffer?) {
    requestComplete = true
    if let filterRun, !discarding, !finished, !filterRun.passesRequestBody {
      return filterRun.requestEnd(trailers)
    }
    passRequestEnd(trailers)
  }

  func passRequestEnd(_ trailers: ByteBuffer?) {
    bodyComplete = true
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
    if deadline == nil, let timeout = route?.requestTimeout, timeout.nanoseconds > 0 {
      setDeadline(now + timeout)
    }
    if isGRPC, let requested = callerDeadline() {
      // A deadline of zero has passed already: the call is not forwarded.
      guard requested.nanoseconds > 0 else {
        return respond(504, body: "deadline exceeded before forwarding\n", flag: .upstreamTimeout)
      }
      if deadline.map({ now + requested < $0 }) ?? true { setDeadline(now + requested) }
    }
    askForBody()
    if let path = forward.pathRewrite { rewrite = (path, pathMatch) }
    if let mirror = route?.mirror, mirror.share.includes(random: &loop.random) {
      startMirror(mirror, timeout: deadline.map { $0 - now } ?? RouteRuntime.defaultRequestTimeout)
    }
    if route?.retry != nil {
      // Body that arrived before forwarding (during a fault delay, say) is part of what a retry replays.
      var progress = RetryProgress()
      for piece in pendingBody { progress.keep(piece) }
      retry = progress
    }
    startTry()
  }

  /// A client waiting for `100 Continue` is told to send its body, once the gateway knows it will be used.
  /// The gateway answers it itself and does not forward Expect; a request answered earlier gets its final
  /// status instead (RFC 9110 §10.1.1).
  func askForBody() {
    guard request.expectsContinue, !request.isHTTP10, !requestComplete, !sentContinue else { return }
    downstream.write(HeadWriter.continueResponse)
    downstream.flush()
    sentContinue = true
  }

  /// Replaces the request's deadline (nil: none).
  func setDeadline(_ deadline: NIODeadline?) {
    if let timeoutSlot { loop.deadlines.remove(timeoutSlot) }
    timeoutSlot = deadline.map { loop.deadlines.add(deadline: $0, owner: self) }
    self.deadline = deadline
  }

  /// Sends a copy of the request to the route's mirror, on its own from here on.
  func startMirror(_ target: MirrorRuntime, timeout: TimeAmount) {
    guard let destination else { return }
    var head = downstream.allocator.buffer(capacity: request.head.text.utf8.count + 256)
    HeadWriter.upstreamRequest(
      request, target: upstreamTarget(), scheme: downstream.scheme, clientAddress: downstream.clientAddress,
      requestID: requestID, shadow: true, plan: destination.requestPlan, edits: upstreamEdits,
      bodyFraming: upstreamBodyFraming(sending: pendingBody),
      variables: variables(for: destination.requestPlan),
      into: &head)
    guard
      let mirror = MirrorRequest(
        of: request, head: head, chunked: sendsChunked(sending: pendingBody), to: target.upstream,
        timeout: timeout, loop: loop)
    else { return }
    for piece in pendingBody { mirror.requestBody(piece) }
    if bodyComplete { mirror.requestEnd(requestTrailers) } else { self.mirror = mirror }
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
    filterRun?.end()
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
        time: startedAt, method: request.method, authority: loggedAuthority, path: loggedTarget,
        status: status, bytesIn: bytesIn, bytesOut: bytesOut, duration: now - started,
        upstreamAddress: endpoint?.key, upstreamDuration: upstreamStarted.map { now - $0 }, route: routeName,
        flags: flags, requestID: requestID))
  }

  private var loggedAuthority: Substring {
    guard let masker = filterRun?.accessLogMasker else { return request.authority }
    return masker.masked(request.authority)
  }

  /// The request target as the access log shows it: as the client sent it, without the query parameters a
  /// filter keeps out of logs (where a route reads bearer tokens).
  private var loggedTarget: Substring {
    var target = request.originForm
    if let hidden = filterRun?.queryParametersHiddenFromLogs, !hidden.isEmpty {
      target = QueryParameters.target(
        path: request.path, query: QueryParameters.removing(hidden, from: request.query))
    }
    // DLP's actions over what the line shows of the request (`enabledFor: ACCESS_LOGS`).
    if let masker = filterRun?.accessLogMasker { target = masker.masked(target) }
    return target
  }
}
