import NIOCore

/// Answers the gateway makes itself: errors and refusals, its own or its filters'. Each goes through the
/// response-head filters of the filters the request has passed, so CORS fields reach a 403, say.
extension Exchange {
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
    downstream.release(.filtering)
    if !requestComplete {
      discarding = true
      // A client still waiting for `100 Continue` may never send the body it announced.
      if request.expectsContinue, !sentContinue { keepAlive = false }
      // A client still sending a large body is better closed than drained.
      if BodyBound.discard.isExceeded(by: bytesIn) { keepAlive = false }
    }
    var fields = extra
    let edits =
      filterRun?.localAnswerHeaders(for: LocalAnswer(status: status, body: body, fields: extra))
      ?? FieldEdits()
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
    var buffer = downstream.allocator.buffer(capacity: 256 + (body?.utf8.count ?? 0))
    bytesOut += HeadWriter.localAnswer(
      status: wireStatus, body: body, fields: fields, requestID: requestID, keepAlive: keepAlive,
      clientIsHTTP10: request.isHTTP10, omitsBody: request.methodKind == .head, plan: plan, edits: edits,
      variables: variables(for: plan), into: &buffer)
    downstream.write(buffer)
    downstream.finishResponse(closing: !keepAlive)
    finishIfDone()
  }
}
