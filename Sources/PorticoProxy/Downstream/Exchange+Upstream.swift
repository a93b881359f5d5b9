import NIOCore

/// The upstream side of an exchange: the connection arriving, the response coming back, and what happens
/// when the upstream fails or takes too long.
extension Exchange {
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
      if let retry, retry.isRetrying, !retry.isReplayable {
        // The body outgrew what is kept while this retry waited for its connection.
        endpoint?.pool.release(connection, reusable: true)
        return respond(
          503, body: "upstream request failed; its body is too large to retry\n", flag: .retryLimitExceeded)
      }
      self.connection = connection
      connection.handler.expectResponse(
        receiver: self, toHEAD: request.methodKind == .head, upgrade: request.upgradesToWebSocket)
      let target = upstreamTarget()
      // A retry sends the whole body kept so far; a first try what arrived while it waited.
      let pieces = retry.map { $0.isRetrying ? $0.replay : pendingBody } ?? pendingBody
      var head = loop.outgoingBuffer.take(
        minimumCapacity: request.head.text.utf8.count + 256 + min(pendingBytes, OutgoingMessage.gatherLimit))
      HeadWriter.upstreamRequest(
        request, target: target, scheme: downstream.scheme, clientAddress: downstream.clientAddress,
        requestID: requestID, attempt: retry?.tries, plan: destination.requestPlan, edits: upstreamEdits,
        bodyFraming: upstreamBodyFraming(sending: pieces), variables: variables(for: destination.requestPlan),
        into: &head)
      var message = OutgoingMessage(
        head: head, chunked: sendsChunked(sending: pieces), reusable: loop.outgoingBuffer)
      for piece in pieces { message.append(piece, to: connection) }
      pendingBody = []
      pendingBytes = 0
      if bodyComplete {
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
  func upstreamTarget() -> Substring {
    let removed = filterRun?.removedQueryParameters ?? []
    let set = filterRun?.setQueryParameters ?? []
    guard rewrite != nil || !removed.isEmpty || !set.isEmpty else { return request.originForm }
    let path =
      if let rewrite {
        rewrite.match.isExact
          ? rewrite.path
          : PathRewriting.replacePrefix(
            of: request.path, matchedLength: rewrite.match.literalLength, with: rewrite.path)
      } else {
        String(request.path)
      }
    var query = removed.isEmpty ? request.query : QueryParameters.removing(removed, from: request.query)
    if !set.isEmpty { query = QueryParameters.setting(set, in: query) }
    return QueryParameters.target(path: path[...], query: query)
  }

  func upstreamResponseHead(_ response: ResponseHead, framing: BodyFraming) {
    guard !finished else { return }
    // A retried answer is dropped unread, and its connection with it.
    if RetryRuntime.retries(status: response.status), retry != nil, retryIfAllowed() { return }
    if let tryTimeoutSlot { loop.deadlines.remove(tryTimeoutSlot) }
    tryTimeoutSlot = nil
    stopRetrying()
    status = response.status
    upstreamKeepAlive = response.keepAlive && framing != .untilClose
    if let filterRun, filterRun.filters.seesResponses, response.status != 101 {
      // The response filters see the head first; they say when it is written.
      heldResponse = (response, framing)
      return filterRun.responseHead(ResponseView(response))
    }
    writeResponseHead(response, framing: framing, filteredLength: nil)
  }

  /// Writes the response head for the client. `filteredLength` is the body's length when filters held the
  /// head until the whole body was in (and may have changed it).
  func writeResponseHead(_ response: ResponseHead, framing: BodyFraming, filteredLength: Int?) {
    responseStarted = true
    var framing = framing
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
      if let filterRun, filterRun.filters.rewritesResponseBody || filteredLength != nil,
        request.methodKind != .head, response.status != 204, response.status != 304, framing != .none
      {
        // Filters may have changed the body: its length is counted again, or it goes in chunks.
        downstreamFraming.dropsLength = true
        downstreamFraming.dropsTransferEncoding = true
        if let filteredLength {
          downstreamFraming.contentLength = filteredLength
          framing = .length(filteredLength)
        } else {
          framing = .untilClose
        }
      }
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
    var head = loop.outgoingBuffer.take(
      minimumCapacity: response.head.text.utf8.count + 64 + min(expectedBody, OutgoingMessage.gatherLimit))
    let plan = destination?.responsePlan ?? .none
    HeadWriter.downstreamResponse(
      response, framing: downstreamFraming, keepAlive: keepAlive, clientIsHTTP10: request.isHTTP10,
      // Only response hooks edit a response's fields (the layer starts them afresh for each response).
      plan: plan,
      edits: filterRun.flatMap { $0.filters.seesResponses ? $0.responseHeaders : nil } ?? FieldEdits(),
      variables: variables(for: plan),
      into: &head)
    toClient = OutgoingMessage(head: head, chunked: chunked, reusable: loop.outgoingBuffer)
  }

  func upstreamResponseBody(_ buffer: ByteBuffer) {
    guard !finished else { return }
    if let filterRun, filterRun.filters.seesResponses, !isTunnel { return filterRun.responseBody(buffer) }
    sendResponseBody(buffer)
  }

  /// Response body on its way to the client (through the route's filters, when it has any).
  func sendResponseBody(_ buffer: ByteBuffer) {
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
    if let upstream, let endpoint { loop.recordOutcome(upstream, endpoint: endpoint, failed: status >= 500) }
    // A response that ends before the request was sent whole leaves the upstream connection unusable, and
    // the client's remaining body unread: both connections close.
    if !requestComplete { keepAlive = false }
    releaseConnection(reusable: upstreamRequestComplete && upstreamKeepAlive)
    if let filterRun, filterRun.filters.seesResponses, !isTunnel { return filterRun.responseEnd(trailers) }
    finishResponse(trailers: trailers)
  }

  /// The response to the client ends.
  func finishResponse(trailers: ByteBuffer?) {
    responseComplete = true
    toClient?.finish(trailers: trailers, to: downstream)
    downstream.finishResponse(closing: !keepAlive)
    finishIfDone()
  }

  func upstreamFailed(_ error: Error?) {
    guard !finished, connection != nil else { return }
    // A reset (closed, or failed with a socket error) or an unreadable answer, before the response began.
    if !responseStarted, retry != nil, retryIfAllowed() { return }
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
    guard upstream != nil else {
      // The route's filters held the request past its deadline.
      return respond(504, body: "request timeout\n", flag: .upstreamTimeout)
    }
    giveUpOnUpstream(504, body: "upstream request timeout\n", flag: .upstreamTimeout)
  }

  /// Counts the failure against the endpoint and drops the connection. Before the response has started the
  /// client gets `status`; after, nothing more can be said and its connection is cut.
  func giveUpOnUpstream(_ status: Int, body: String, flag: ResponseFlag) {
    // Between tries (a retry's back-off) the last endpoint's failure has been counted already.
    if connection != nil || awaitingConnection, let upstream, let endpoint {
      loop.recordOutcome(upstream, endpoint: endpoint, failed: true)
    }
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
  func endStartedResponse(_ status: Int, message: String) {
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

  func releaseConnection(reusable: Bool) {
    guard let connection else { return }
    self.connection = nil
    downstream.release(.upstreamBusy)
    endpoint?.pool.release(connection, reusable: reusable)
  }
}
