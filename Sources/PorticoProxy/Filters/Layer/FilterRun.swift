import NIOCore

/// What the filter layer asks of the exchange it runs in.
protocol FilterHost: AnyObject {
  /// The request-head phase has passed (with the whole body first, if a filter asked for it): the request
  /// goes on to its route's action. `wholeBodyLength`: the filters hold all of the body, this long, so the
  /// head sent upstream can say so, even before the body itself is handed over.
  func filtersPassedRequestHead(wholeBodyLength: Int?)
  /// A filter waits for the whole request body: a client waiting for `100 Continue` must be told to send it.
  func filtersNeedRequestBody()
  /// Request body the filters let through, in order, then its end.
  func filteredRequestBody(_ piece: ByteBuffer)
  func filteredRequestEnd(_ trailers: ByteBuffer?)
  /// The response head can be written, with the length of the whole body when it is known (a filter held
  /// the head until the body had arrived, and may have changed it); otherwise the body streams through
  /// the filters and its length is not known.
  func filteredResponseHead(bodyLength: Int?)
  func filteredResponseBody(_ piece: ByteBuffer)
  func filteredResponseEnd(_ trailers: ByteBuffer?)
  /// A filter answers the request (or, in the response phases, replaces the response).
  func filterAnswered(_ answer: LocalAnswer)
  /// Client reads pause while a filter holds the request, and resume after.
  func holdClientReads(_ hold: Bool)
  func note(_ flag: ResponseFlag)
  /// Request body bytes received from the client so far.
  var requestBodyBytes: Int { get }
  /// The request's `x-request-id`, as the upstream sees it.
  var requestID: RequestID { get }
}

/// Runs one request through its route's filters: each phase in order (responses in reverse), suspending
/// where a filter says so and resuming at the next filter when it is told to. Made only for a route that has
/// filters; the exchange hands it every event of the request and response, and it hands back what the
/// filters let through.
final class FilterRun: FilterCall {
  let filters: RequestFilters
  override var bodyBound: BodyBound { filters.bodyBound }
  /// Where a suspended request goes on from.
  private var pending: Step?
  private var ended = false

  private enum Step {
    case requestHead(from: Int)
    case requestBody(ByteBuffer, end: Bool, from: Int)
    case responseHead(from: Int)
    case responseBody(ByteBuffer, end: Bool, from: Int)
  }

  // Request side.
  /// The head filter the request has reached: filters before it have passed it.
  private var headPosition = 0
  private var requestHeadPassed = false
  /// A head filter asked for the whole body before the request goes on.
  private var requestWaitsForBody = false
  /// While a head filter holds the request for its body, as Envoy's filters do (stop and buffer): the body
  /// goes through the filters up to it (`bodyPassEnd`), then the head goes on from the filter after it, and
  /// the body after that from `bodyPassStart`. So a filter after the WAF sees nothing of a request the WAF
  /// blocks.
  private var bodyPassStart = 0
  private var bodyPassEnd = Int.max
  /// Body that arrived before the head phase passed, and whether it has ended.
  private var early = BodyGathering()
  /// Pieces that arrived while a body filter was suspended.
  private var queuedRequest: [(piece: ByteBuffer, end: Bool)] = []
  private var requestTrailers: ByteBuffer?
  /// Per filter: body it keeps until the end (`.buffer`).
  private var requestKept: [Int: ByteBuffer] = [:]

  // Response side.
  private var responseWaitsForBody = false
  private var responseGathered = BodyGathering()
  private var queuedResponse: [(piece: ByteBuffer, end: Bool)] = []
  private var responseTrailers: ByteBuffer?
  private var responseKept: [Int: ByteBuffer] = [:]
  /// The head has gone to the client: the response can no longer be replaced.
  private var responseHeadSent = false

  init(
    filters: RequestFilters, request: RequestHead, loop: LoopContext, clientAddress: String,
    routeName: String,
    host: any FilterHost
  ) {
    self.filters = filters
    super.init(
      request: request, loop: loop, clientAddress: clientAddress, routeName: routeName,
      filterCount: filters.count, host: host)
  }

  // MARK: - Request

  func start() { run(.requestHead(from: 0)) }

  /// The head has passed every filter and none reads bodies: the rest of the request needs the layer no
  /// more (the exchange sends it on itself).
  var passesRequestBody: Bool { requestHeadPassed && !filters.seesRequestBody && !ended }

  func requestBody(_ piece: ByteBuffer) { requestPiece(piece, end: false) }

  func requestEnd(_ trailers: ByteBuffer?) {
    requestTrailers = trailers
    requestPiece(Self.noBytes, end: true)
  }

  /// The empty piece an end carries, made once.
  private static let noBytes = ByteBuffer()

  private func requestPiece(_ piece: ByteBuffer, end: Bool) {
    guard !ended else { return }
    if !requestHeadPassed {
      // Kept within the bound when a filter waits for the whole body; otherwise held reads bound it. The
      // bare end of a body-less request adds nothing to hold back (and toggling reads costs two syscalls).
      if pending != nil, piece.readableBytes > 0 { host.holdClientReads(true) }
      guard early.add(piece, end: end, bound: filters.bodyBound) || !requestWaitsForBody else {
        return tooLarge()
      }
      if requestWaitsForBody, end, pending == nil { afterRequestHead() }
      return
    }
    if pending != nil {
      queuedRequest.append((piece, end))
      if piece.readableBytes > 0 { host.holdClientReads(true) }
      return
    }
    run(.requestBody(piece, end: end, from: 0))
  }

  private func afterRequestHead() {
    if requestWaitsForBody {
      // The body is read whole before anything goes on.
      guard early.ended else { return }
      return run(.requestBody(early.take(), end: true, from: bodyPassStart))
    }
    requestHeadPassed = true
    host.filtersPassedRequestHead(wholeBodyLength: nil)
    let ended = early.ended
    let whole = early.take()
    if whole.readableBytes > 0 || ended { run(.requestBody(whole, end: ended, from: 0)) }
  }

  // MARK: - Response

  /// The upstream's response head has arrived: the response-head phase runs over it.
  func responseHead(_ response: ResponseView) {
    respond(with: response)
    responseHeaders = FieldEdits()
    run(.responseHead(from: filters.count - 1))
  }

  func responseBody(_ piece: ByteBuffer) { responsePiece(piece, end: false) }

  func responseEnd(_ trailers: ByteBuffer?) {
    responseTrailers = trailers
    responsePiece(Self.noBytes, end: true)
  }

  private func responsePiece(_ piece: ByteBuffer, end: Bool) {
    guard !ended else { return }
    if responseWaitsForBody, !responseHeadSent {
      guard responseGathered.add(piece, end: end, bound: filters.bodyBound) else {
        return responseTooLarge()
      }
      guard end else { return }
      return run(.responseBody(responseGathered.take(), end: true, from: filters.count - 1))
    }
    if pending != nil {
      queuedResponse.append((piece, end))
      return
    }
    run(.responseBody(piece, end: end, from: filters.count - 1))
  }

  /// An answer the gateway makes (a filter's, or the core's): the response-head filters of the filters the
  /// request has passed add their fields (CORS fields reach a 401, say). Its body is the gateway's own.
  func localAnswerHeaders(for answer: LocalAnswer) -> FieldEdits {
    respond(with: ResponseView(answer: answer))
    responseHeaders = FieldEdits()
    for index in stride(from: headPosition - 1, through: 0, by: -1)
    where filters[index].phases.contains(.responseHead) {
      // Only edits count here: the answer's status and body are the gateway's own (a hook that throws is
      // counted, and the answer goes out as it is).
      _ = decide { try filters[index].responseHead(self) }
    }
    return responseHeaders
  }

  // MARK: - End

  /// The exchange is over: the log phase runs, and any resume that comes later does nothing.
  func end() {
    guard !ended else { return }
    ended = true
    pending = nil
    suspension?.cancel()
    suspension = nil
    for filter in filters.log { filter.log(self) }
  }

  // MARK: - Running

  /// A suspended filter's handle said how to go on.
  override func resumed(with verdict: FilterVerdict) {
    guard !ended, let step = pending else { return }
    pending = nil
    // Resumed from a callback, nothing else holds the exchange: the answer can end it, and free it, before
    // this returns. Kept alive until then.
    let exchange = host
    defer { withExtendedLifetime(exchange) {} }
    host.holdClientReads(false)
    switch verdict {
    case .answer(let answer): return answered(answer)
    case .suspend, .buffer, .proceed: break
    }
    switch step {
    case .requestHead(let index): run(.requestHead(from: index + 1))
    case .requestBody(let piece, let end, let index): run(.requestBody(piece, end: end, from: index + 1))
    case .responseHead(let index): run(.responseHead(from: index - 1))
    case .responseBody(let piece, let end, let index): run(.responseBody(piece, end: end, from: index - 1))
    }
  }

  private func run(_ step: Step) {
    switch step {
    case .requestHead(let start):
      for index in start..<filters.count where filters[index].phases.contains(.requestHead) {
        headPosition = index
        switch decide({ try filters[index].requestHead(self) }) {
        case .proceed: continue
        case .buffer:
          if !requestWaitsForBody { host.filtersNeedRequestBody() }
          requestWaitsForBody = true
          bodyPassEnd = index + 1
          return afterRequestHead()
        case .answer(let answer): return answered(answer)
        case .suspend: return suspended(at: .requestHead(from: index))
        }
      }
      headPosition = filters.count
      afterRequestHead()
    case .requestBody(var piece, let end, let start):
      let passEnd = requestHeadPassed ? filters.count : min(bodyPassEnd, filters.count)
      for index in start..<passEnd where filters[index].phases.contains(.requestBody) {
        guard keep(&piece, end: end, at: index, in: &requestKept, isRequest: true) else { return }
        switch decide({ try filters[index].requestBody(&piece, end: end, self) }) {
        case .proceed: continue
        case .buffer where !end:
          requestKept[index] = piece
          return
        case .buffer: continue
        case .answer(let answer): return answered(answer)
        case .suspend: return suspended(at: .requestBody(piece, end: end, from: index))
        }
      }
      if !requestHeadPassed, passEnd < filters.count {
        // The filter that held the request has its body: the head goes on from the next filter.
        bodyPassStart = passEnd
        bodyPassEnd = Int.max
        _ = early.add(piece, end: true, bound: BodyBound(bytes: Int.max))
        return run(.requestHead(from: passEnd))
      }
      if !requestHeadPassed {
        // A head filter waited for this whole body: now the request goes on.
        requestHeadPassed = true
        host.filtersPassedRequestHead(wholeBodyLength: end ? piece.readableBytes : nil)
      }
      if piece.readableBytes > 0 { host.filteredRequestBody(piece) }
      if end { host.filteredRequestEnd(requestTrailers) }
      drainQueuedRequest()
    case .responseHead(let start):
      for index in stride(from: start, through: 0, by: -1)
      where filters[index].phases.contains(.responseHead) {
        switch decide({ try filters[index].responseHead(self) }) {
        case .proceed: continue
        case .buffer: responseWaitsForBody = true
        case .answer(let answer): return answered(answer)
        case .suspend: return suspended(at: .responseHead(from: index))
        }
      }
      if !responseWaitsForBody {
        responseHeadSent = true
        host.filteredResponseHead(bodyLength: nil)
      }
      // Pieces that arrived while a head filter was suspended go on now (or are gathered, if one waits
      // for the whole body).
      drainQueuedResponse()
    case .responseBody(var piece, let end, let start):
      for index in stride(from: start, through: 0, by: -1)
      where filters[index].phases.contains(.responseBody) {
        guard keep(&piece, end: end, at: index, in: &responseKept, isRequest: false) else { return }
        switch decide({ try filters[index].responseBody(&piece, end: end, self) }) {
        case .proceed: continue
        case .buffer where !end:
          responseKept[index] = piece
          return
        case .buffer: continue
        case .answer(let answer): return answered(answer)
        case .suspend: return suspended(at: .responseBody(piece, end: end, from: index))
        }
      }
      if !responseHeadSent {
        responseHeadSent = true
        host.filteredResponseHead(bodyLength: piece.readableBytes)
      }
      if piece.readableBytes > 0 { host.filteredResponseBody(piece) }
      if end { host.filteredResponseEnd(responseTrailers) }
      drainQueuedResponse()
    }
  }

  /// Before a body filter sees a piece: if it keeps the body until the end, the piece joins what it keeps
  /// (false: wait for more); at the end it gets all of it. A kept body past the bound fails the request.
  private func keep(
    _ piece: inout ByteBuffer, end: Bool, at index: Int, in kept: inout [Int: ByteBuffer], isRequest: Bool
  ) -> Bool {
    // Taken out while it grows, so that appending does not copy what is kept.
    guard var held = kept.removeValue(forKey: index) else { return true }
    guard !filters.bodyBound.isExceeded(by: held.readableBytes + piece.readableBytes) else {
      if isRequest { tooLarge() } else { responseTooLarge() }
      return false
    }
    held.writeImmutableBuffer(piece)
    guard end else {
      kept[index] = held
      return false
    }
    piece = held
    return true
  }

  /// Runs the pieces that waited for a suspended filter, in order, until one suspends again.
  private func drainQueuedRequest() {
    while pending == nil, !ended, !queuedRequest.isEmpty {
      let (piece, end) = queuedRequest.removeFirst()
      run(.requestBody(piece, end: end, from: 0))
    }
  }

  private func drainQueuedResponse() {
    while pending == nil, !ended, !queuedResponse.isEmpty {
      let (piece, end) = queuedResponse.removeFirst()
      responsePiece(piece, end: end)
    }
  }

  /// A hook's verdict; a hook that throws fails the request closed.
  private func decide(_ hook: () throws -> FilterVerdict) -> FilterVerdict {
    do {
      return try hook()
    } catch {
      loop.services.metrics.filterErrors.increment()
      return .answer(LocalAnswer(status: 500, body: "filter failed\n"))
    }
  }

  /// Client reads are held only once a piece arrives while the filter waits (a request without a body,
  /// the common case, changes nothing on its connection).
  private func suspended(at step: Step) {
    pending = step
  }

  private func answered(_ answer: LocalAnswer) {
    guard !ended else { return }
    pending = nil
    suspension = nil
    host.filterAnswered(answer)
  }

  /// A request body a filter needs whole is past the route's bound.
  private func tooLarge() {
    loop.services.metrics.requestBodiesTooLarge.increment()
    answered(LocalAnswer(status: 413, body: "request body too large\n", closesConnection: true))
  }

  /// A response body a filter needs whole is past the route's bound: the upstream's answer cannot be
  /// passed on as the route asks.
  private func responseTooLarge() {
    loop.services.metrics.responseBodiesTooLarge.increment()
    answered(
      LocalAnswer(status: 502, body: "the upstream's response is larger than the route's filters can hold\n"))
  }
}

/// Body gathered whole before it goes on, within a bound.
private struct BodyGathering {
  private var pieces: ByteBuffer?
  private(set) var ended = false

  /// False when the body outgrows `bound`.
  mutating func add(_ piece: ByteBuffer, end: Bool, bound: BodyBound) -> Bool {
    if end { ended = true }
    guard piece.readableBytes > 0 else { return true }
    if pieces == nil {
      pieces = piece
    } else {
      pieces!.writeImmutableBuffer(piece)
    }
    return !bound.isExceeded(by: pieces!.readableBytes)
  }

  mutating func take() -> ByteBuffer {
    defer { pieces = nil }
    return pieces ?? Self.noBytes
  }

  private static let noBytes = ByteBuffer()
}
