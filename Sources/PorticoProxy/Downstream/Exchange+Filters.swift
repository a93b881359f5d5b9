import NIOCore

/// The exchange as the filter layer's host: what the route's filters let through goes on from here, and
/// the changes they ask for join the route's own.
extension Exchange: FilterHost {
  func filtersPassedRequestHead(wholeBodyLength: Int?) {
    guard !finished, let route else { return }
    filteredBodyLength = wholeBodyLength
    serve(route)
  }

  func filtersNeedRequestBody() { askForBody() }

  func filteredRequestBody(_ piece: ByteBuffer) { passRequestBody(piece) }

  func filteredRequestEnd(_ trailers: ByteBuffer?) { passRequestEnd(trailers) }

  func filteredResponseHead(bodyLength: Int?) {
    guard let (head, framing) = heldResponse else { return }
    heldResponse = nil
    writeResponseHead(head, framing: framing, filteredLength: bodyLength)
  }

  func filteredResponseBody(_ piece: ByteBuffer) { sendResponseBody(piece) }

  func filteredResponseEnd(_ trailers: ByteBuffer?) { finishResponse(trailers: trailers) }

  func filterAnswered(_ answer: LocalAnswer) {
    if answer.closesConnection { keepAlive = false }
    // An answer in place of an upstream response leaves that response unread on its connection.
    releaseConnection(reusable: false)
    heldResponse = nil
    if responseStarted {
      if let flag = answer.flag { flags.append(flag) }
      endStartedResponse(answer.status, message: answer.body?.trimmingCharacters(in: .newlines) ?? "")
    } else {
      respond(
        answer.status, body: answer.body, fields: answer.fields, flag: answer.flag,
        plan: route?.localResponsePlan ?? .none)
    }
  }

  func holdClientReads(_ hold: Bool) {
    if hold { downstream.hold(.filtering) } else { downstream.release(.filtering) }
  }

  func note(_ flag: ResponseFlag) { flags.append(flag) }

  var requestBodyBytes: Int { bytesIn }

  /// What the route's filters change on the request sent upstream (after the route's own plan).
  var upstreamEdits: FieldEdits { filterRun?.upstreamHeaders ?? FieldEdits() }

  /// How the body sent upstream is framed when a filter may have changed its length: by its length once it
  /// is whole (`pieces` being all of it) or the filters hold all of it, chunked before. Nil keeps the
  /// client's framing.
  func upstreamBodyFraming(sending pieces: [ByteBuffer]) -> HeadWriter.RequestBodyFraming? {
    guard let filters = route?.filters, filters.rewritesRequestBody else { return nil }
    if let filteredBodyLength { return .length(filteredBodyLength) }
    guard bodyComplete else { return .chunked }
    return .length(pieces.reduce(0) { $0 + $1.readableBytes })
  }

  /// Whether the body sent upstream goes in chunks.
  func sendsChunked(sending pieces: [ByteBuffer]) -> Bool {
    guard let framing = upstreamBodyFraming(sending: pieces) else { return request.framing == .chunked }
    return framing == .chunked
  }
}
