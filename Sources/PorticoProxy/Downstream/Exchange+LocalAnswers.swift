import NIOCore

/// Answers the gateway makes itself: errors, refusals, injected faults.
extension Exchange {
  /// `csrf`: whether this state-changing request comes from another site and is refused (in shadow mode
  /// it is only counted).
  func refusesForeignOrigin(_ csrf: CSRFRuntime) -> Bool {
    switch request.methodKind {
    case .post, .put, .patch: break
    case .other where request.method == "DELETE": break
    default: return false
    }
    guard csrf.share.includes(random: &loop.random),
      let origin = request.head.firstValue(named: "origin") ?? request.head.firstValue(named: "referer"),
      csrf.isForeign(origin: origin, authority: request.authority)
    else { return false }
    if csrf.enforces {
      loop.services.metrics.csrfRefused.increment()
      return true
    }
    loop.services.metrics.csrfShadowed.increment()
    return false
  }

  /// `faultInjection`: waits out the delay (before the request timeout starts), then aborts with the
  /// status or goes on.
  func injectFault(delay: TimeAmount?, abort: Int?, then proceed: @escaping (Exchange) -> Void) {
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

  /// The body is larger than the route allows (known from Content-Length, or counted as it streams in):
  /// 413, and neither connection carries anything more, since the rest of the body is not read.
  func refuseBody() {
    keepAlive = false
    releaseConnection(reusable: false)
    if responseStarted {
      endStartedResponse(413, message: "request body too large")
    } else {
      respond(413, body: "request body too large\n")
    }
  }

  /// Answers from the gateway itself. The rest of the request body, if any, is read and dropped.
  func respond(
    _ status: Int, body: String?, fields extra: [(name: String, value: String)] = [],
    flag: ResponseFlag? = nil,
    plan: HeaderPlan = .none
  ) {
    guard !finished, !responseStarted else { return }
    if let flag { flags.append(flag) }
    responseStarted = true
    stopRetrying()
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
    fields.append(("x-request-id", requestID.text))
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
}
