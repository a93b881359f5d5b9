import Foundation
import NIOCore
import NIOEmbedded
import PorticoAPI
import PorticoTranslate
import XCTest

@testable import PorticoProxy

/// The filter layer driven without sockets: each phase's verdicts, suspension and resumption on the loop,
/// bounded buffering, bodies whose length changes, and failures, with test filters.
final class FilterLayerTests: XCTestCase {
  var eventLoop: EmbeddedEventLoop!
  var loop: LoopContext!
  var host: RecordingHost!

  override func setUpWithError() throws {
    eventLoop = EmbeddedEventLoop()
    loop = try embeddedLoopContext(eventLoop)
    host = RecordingHost()
  }

  func testFiltersRunInOrderAndTheRequestGoesOn() throws {
    let first = ScriptedFilter([.requestHead, .requestBody])
    let second = ScriptedFilter([.requestHead, .requestBody])
    let run = try filterRun([first, second], loop: loop, host: host)
    run.start()
    run.requestBody(ByteBuffer(string: "hello"))
    run.requestEnd(nil)
    XCTAssertEqual(first.calls, ["requestHead", "requestBody(hello,false)", "requestBody(,true)"])
    XCTAssertEqual(second.calls, first.calls)
    XCTAssertEqual(host.events, [.passedHead, .requestBody("hello"), .requestEnd])
  }

  func testAFilterAnswersAndTheFiltersAfterItDoNotRun() throws {
    let answering = ScriptedFilter([.requestHead])
    answering.onRequestHead = { _ in .answer(LocalAnswer(status: 401, body: "who are you\n")) }
    let after = ScriptedFilter([.requestHead])
    let run = try filterRun([answering, after], loop: loop, host: host)
    run.start()
    XCTAssertEqual(host.events, [.answered(401, "who are you\n")])
    XCTAssertEqual(after.calls, [])
  }

  /// A local answer gets the response-head edits of the filters before the one that answered, not of
  /// itself or those after it (CORS fields reach a 401).
  func testALocalAnswerGoesThroughTheResponseFiltersOfThoseBeforeIt() throws {
    let cors = ScriptedFilter([.requestHead, .responseHead])
    cors.onResponseHead = { call in
      call.responseHeaders.add("access-control-allow-origin", "https://app.test")
      return .proceed
    }
    let auth = ScriptedFilter([.requestHead, .responseHead])
    auth.onRequestHead = { _ in .answer(LocalAnswer(status: 401, body: nil)) }
    auth.onResponseHead = { call in
      call.responseHeaders.add("x-auth", "never")
      return .proceed
    }
    let run = try filterRun([cors, auth], loop: loop, host: host)
    run.start()
    let edits = run.localAnswerHeaders(for: LocalAnswer(status: 401, body: nil))
    XCTAssertEqual(edits.added.map(\.name), ["access-control-allow-origin"])
    XCTAssertEqual(cors.calls, ["requestHead", "responseHead(401)"])
  }

  func testSuspendThenResumeOnTheLoop() throws {
    var resume: FilterResume?
    let suspending = ScriptedFilter([.requestHead])
    suspending.onRequestHead = { call in
      resume = call.suspend()
      return .suspend
    }
    let after = ScriptedFilter([.requestHead])
    let run = try filterRun([suspending, after], loop: loop, host: host)
    run.start()
    XCTAssertEqual(host.events, [], "a request without a body changes nothing on its connection")
    run.requestBody(ByteBuffer(string: "early"))
    XCTAssertEqual(
      host.events, [.holdsReads(true)], "client reads pause once body arrives while a filter holds it")
    XCTAssertEqual(after.calls, [])
    // The answer comes from another thread; the request goes on on its own loop.
    let handle = try XCTUnwrap(resume)
    let worker = Thread { handle.proceed() }
    worker.start()
    while host.events.count == 1 {
      eventLoop.run()
      Thread.sleep(forTimeInterval: 0.001)
    }
    XCTAssertEqual(after.calls, ["requestHead"])
    XCTAssertEqual(host.events, [.holdsReads(true), .holdsReads(false), .passedHead, .requestBody("early")])
    handle.proceed()
    eventLoop.run()
    XCTAssertEqual(after.calls, ["requestHead"], "a handle resumes once")
  }

  func testSuspendThenAnswer() throws {
    let suspending = ScriptedFilter([.requestHead])
    var resume: FilterResume?
    suspending.onRequestHead = { call in
      resume = call.suspend()
      return .suspend
    }
    let run = try filterRun([suspending], loop: loop, host: host)
    run.start()
    resume?.answer(LocalAnswer(status: 403, body: "denied\n"))
    XCTAssertEqual(host.events, [.holdsReads(false), .answered(403, "denied\n")])
  }

  /// A GET's end arrives with its head, while the filter waits: there is nothing to hold back, so client
  /// reads stay on (holding and releasing them costs two syscalls a request).
  func testBodylessEndWhileSuspendedKeepsReading() throws {
    var resume: FilterResume?
    let suspending = ScriptedFilter([.requestHead])
    suspending.onRequestHead = { call in
      resume = call.suspend()
      return .suspend
    }
    let run = try filterRun([suspending], loop: loop, host: host)
    run.start()
    run.requestEnd(nil)
    XCTAssertEqual(host.events, [])
    try XCTUnwrap(resume).proceed()
    eventLoop.run()
    XCTAssertEqual(host.events.filter { $0 != .holdsReads(false) }, [.passedHead, .requestEnd])
  }

  /// The request's deadline passes while a filter holds it: the exchange answers and ends the run, and the
  /// filter's late answer does nothing; the work it was waiting for is told to stop.
  func testSuspendThenTimeOut() throws {
    let suspending = ScriptedFilter([.requestHead, .log])
    var resume: FilterResume?
    var cancelled = false
    suspending.onRequestHead = { call in
      resume = call.suspend()
      resume?.onCancel { cancelled = true }
      return .suspend
    }
    let run = try filterRun([suspending], loop: loop, host: host)
    run.start()
    run.end()  // what the exchange does when its deadline passes
    XCTAssertTrue(cancelled)
    resume?.proceed()
    eventLoop.run()
    XCTAssertEqual(host.events, [])
    XCTAssertEqual(suspending.logged, 1)
  }

  /// The client goes away while a filter holds the request: nothing more runs for it, from any thread.
  func testClientGoneWhileSuspended() throws {
    let suspending = ScriptedFilter([.requestHead, .log])
    let after = ScriptedFilter([.requestHead, .log])
    var resume: FilterResume?
    suspending.onRequestHead = { call in
      resume = call.suspend()
      return .suspend
    }
    var run: FilterRun? = try filterRun([suspending, after], loop: loop, host: host)
    run?.start()
    run?.end()
    run = nil
    let handle = try XCTUnwrap(resume)
    let worker = Thread { handle.answer(LocalAnswer(status: 200, body: nil)) }
    worker.start()
    Thread.sleep(forTimeInterval: 0.05)
    eventLoop.run()
    XCTAssertEqual(host.events, [])
    XCTAssertEqual(after.calls, [])
    XCTAssertEqual(after.logged, 1, "the log phase runs for every filter, whatever the outcome")
  }

  func testBufferingOverTheBoundIs413() throws {
    let reader = ScriptedFilter([.requestHead, .requestBody])
    reader.onRequestBody = { _, end, _ in end ? .proceed : .buffer }
    let run = try filterRun([reader], bound: 8, loop: loop, host: host)
    run.start()
    run.requestBody(ByteBuffer(string: "12345"))
    run.requestBody(ByteBuffer(string: "67890"))
    XCTAssertEqual(host.events, [.passedHead, .answered(413, "request body too large\n")])
  }

  /// A head filter that waits for the whole body holds the request until it is in, then sees it whole
  /// before anything goes on.
  func testAHeadFilterWaitsForTheWholeBody() throws {
    let reader = ScriptedFilter([.requestHead, .requestBody])
    reader.onRequestHead = { _ in .buffer }
    let run = try filterRun([reader], loop: loop, host: host)
    run.start()
    run.requestBody(ByteBuffer(string: "ab"))
    run.requestBody(ByteBuffer(string: "cde"))
    XCTAssertEqual(host.events, [.needsBody])
    run.requestEnd(nil)
    XCTAssertEqual(reader.calls, ["requestHead", "requestBody(abcde,true)"])
    XCTAssertEqual(host.events, [.needsBody, .passedHead, .requestBody("abcde"), .requestEnd])
  }

  func testAHeadFilterWaitingForTheBodyGets413PastTheBound() throws {
    let reader = ScriptedFilter([.requestHead, .requestBody])
    reader.onRequestHead = { _ in .buffer }
    let run = try filterRun([reader], bound: 4, loop: loop, host: host)
    run.start()
    run.requestBody(ByteBuffer(string: "abcde"))
    XCTAssertEqual(host.events, [.needsBody, .answered(413, "request body too large\n")])
  }

  /// A filter keeps the body to the end and replaces it with one of another length.
  func testBodyReplacedWithADifferentLength() throws {
    let rewriter = ScriptedFilter([.requestBody, .rewritesRequestBody])
    rewriter.onRequestBody = { body, end, _ in
      guard end else { return .buffer }
      body = ByteBuffer(string: "<wrapped>" + String(buffer: body).uppercased() + "</wrapped>")
      return .proceed
    }
    let after = ScriptedFilter([.requestBody])
    let run = try filterRun([rewriter, after], loop: loop, host: host)
    XCTAssertTrue(run.filters.rewritesRequestBody)
    run.start()
    run.requestBody(ByteBuffer(string: "he"))
    run.requestBody(ByteBuffer(string: "llo"))
    run.requestEnd(nil)
    XCTAssertEqual(host.requestBody, "<wrapped>HELLO</wrapped>")
    XCTAssertEqual(after.calls, ["requestBody(<wrapped>HELLO</wrapped>,true)"])
    XCTAssertEqual(host.events.last, .requestEnd)
  }

  /// A response filter masks a word as the body streams, holding back a window of its own so that a
  /// word split between two pieces is still caught; pieces leave as they are transformed.
  func testResponseBodyRewrittenWhileStreaming() throws {
    final class Window { var held = "" }
    let masker = ScriptedFilter([.responseHead, .responseBody, .rewritesResponseBody])
    masker.onResponseBody = { body, end, call in
      let window = call.state(at: 0) { Window() }
      var text = (window.held + String(buffer: body)).replacingOccurrences(of: "secret", with: "[hidden]")
      // Keep the last five characters back: the start of a word the next piece may finish.
      let kept = end ? 0 : min(5, text.count)
      window.held = String(text.suffix(kept))
      text = String(text.dropLast(kept))
      body = ByteBuffer(string: text)
      return .proceed
    }
    let run = try filterRun([masker], loop: loop, host: host)
    run.start()
    run.responseHead(ResponseView(answer: LocalAnswer(status: 200)))
    XCTAssertEqual(
      host.events.last, .responseHead(bodyLength: nil), "the head leaves at once, length unknown")
    run.responseBody(ByteBuffer(string: "the sec"))
    XCTAssertEqual(host.responseBody, "th", "a piece leaves before the response ends")
    run.responseBody(ByteBuffer(string: "ret is out"))
    run.responseEnd(nil)
    XCTAssertEqual(host.responseBody, "the [hidden] is out")
    XCTAssertEqual(host.events.last, .responseEnd)
  }

  /// A response filter that waits for the whole body: the head leaves with the new length.
  func testResponseHeadWaitsForTheWholeBody() throws {
    let filter = ScriptedFilter([.responseHead, .responseBody, .rewritesResponseBody])
    filter.onResponseHead = { _ in .buffer }
    filter.onResponseBody = { body, end, _ in
      body = ByteBuffer(string: "{\"wrapped\":\"\(String(buffer: body))\"}")
      return .proceed
    }
    let run = try filterRun([filter], loop: loop, host: host)
    run.start()
    run.responseHead(ResponseView(answer: LocalAnswer(status: 200)))
    run.responseBody(ByteBuffer(string: "ab"))
    run.responseBody(ByteBuffer(string: "c"))
    XCTAssertEqual(host.events, [.passedHead])
    run.responseEnd(nil)
    XCTAssertEqual(filter.calls.last, "responseBody(abc,true)")
    XCTAssertEqual(
      host.events,
      [.passedHead, .responseHead(bodyLength: 17), .responseBody("{\"wrapped\":\"abc\"}"), .responseEnd])
  }

  /// A head hook that holds the request for its body stops the filters after it, as Envoy's stop-and-buffer
  /// does: their head hooks run once its body hook has passed the body, and never when it answers.
  func testFiltersAfterOneHoldingTheBodyWaitForItsVerdict() throws {
    for refuses in [false, true] {
      let host = RecordingHost()
      let holding = ScriptedFilter([.requestHead, .requestBody])
      holding.onRequestHead = { _ in .buffer }
      holding.onRequestBody = { _, end, _ in
        end && refuses ? .answer(LocalAnswer(status: 403, body: "no\n")) : .proceed
      }
      let after = ScriptedFilter([.requestHead, .requestBody])
      let run = try filterRun([holding, after], loop: loop, host: host)
      run.start()
      XCTAssertEqual(after.calls, [], "nothing reaches it before the body")
      run.requestBody(ByteBuffer(string: "hello"))
      run.requestEnd(nil)
      XCTAssertEqual(holding.calls, ["requestHead", "requestBody(hello,true)"])
      if refuses {
        XCTAssertEqual(after.calls, [])
        XCTAssertEqual(host.events.last, .answered(403, "no\n"))
      } else {
        XCTAssertEqual(after.calls, ["requestHead", "requestBody(hello,true)"])
        XCTAssertEqual(host.events, [.needsBody, .passedHead, .requestBody("hello"), .requestEnd])
      }
    }
  }

  /// Body pieces that arrive while a response-head hook is suspended go on, in order, once it resumes; or
  /// are gathered whole when a hook after it waits for the body.
  func testResponsePiecesWaitForASuspendedHeadHook() throws {
    for buffers in [false, true] {
      let host = RecordingHost()
      var resume: FilterResume?
      let waiting = ScriptedFilter([.responseHead])
      waiting.onResponseHead = { call in
        resume = call.suspend()
        return .suspend
      }
      let gathering = ScriptedFilter([.responseHead, .responseBody])
      gathering.onResponseHead = { _ in buffers ? .buffer : .proceed }
      // Responses visit filters in reverse: `gathering` runs after `waiting`.
      let run = try filterRun([gathering, waiting], loop: loop, host: host)
      run.start()
      run.responseHead(ResponseView(answer: LocalAnswer(status: 200)))
      run.responseBody(ByteBuffer(string: "ab"))
      run.responseEnd(nil)
      XCTAssertEqual(host.events, [.passedHead])
      resume?.proceed()
      XCTAssertEqual(host.responseBody, "ab", "buffers: \(buffers)")
      XCTAssertEqual(host.events.last, .responseEnd, "buffers: \(buffers)")
    }
  }

  /// Response-head hooks see the response they edit: its status and its fields, by name in any case.
  func testResponseFiltersReadTheResponse() throws {
    var seen: (status: Int?, type: Substring?, missing: Substring?)
    let reader = ScriptedFilter([.requestHead, .responseHead])
    reader.onResponseHead = { call in
      seen = (call.response?.status, call.response?.field("content-type"), call.response?.field("x-none"))
      return .proceed
    }
    let run = try filterRun([reader], loop: loop, host: host)
    run.start()
    _ = run.localAnswerHeaders(
      for: LocalAnswer(status: 403, body: nil, fields: [("Content-Type", "text/html")]))
    XCTAssertEqual(seen.status, 403)
    XCTAssertEqual(seen.type, "text/html")
    XCTAssertNil(seen.missing)
  }

  func testResponseFiltersRunInReverseOrder() throws {
    var order: [String] = []
    let outer = ScriptedFilter([.responseHead])
    outer.onResponseHead = { _ in
      order.append("outer")
      return .proceed
    }
    let inner = ScriptedFilter([.responseHead])
    inner.onResponseHead = { _ in
      order.append("inner")
      return .proceed
    }
    let run = try filterRun([outer, inner], loop: loop, host: host)
    run.start()
    run.responseHead(ResponseView(answer: LocalAnswer(status: 204)))
    XCTAssertEqual(order, ["inner", "outer"])
  }

  /// A hook that throws fails the request closed with 500; it is counted.
  func testAFilterThatThrows() throws {
    let failing = ScriptedFilter([.requestHead])
    failing.onRequestHead = { _ in throw FilterFailure() }
    let after = ScriptedFilter([.requestHead])
    let run = try filterRun([failing, after], loop: loop, host: host)
    run.start()
    XCTAssertEqual(host.events, [.answered(500, "filter failed\n")])
    XCTAssertEqual(after.calls, [])
    XCTAssertTrue(loop.services.metrics.exposition().contains("portico_filter_errors_total 1"))
  }

  /// Pieces that arrive while a body filter is suspended wait, in order, and follow once it resumes.
  func testBodyPiecesWaitForASuspendedBodyFilter() throws {
    var resume: FilterResume?
    let checker = ScriptedFilter([.requestBody])
    checker.onRequestBody = { body, _, call in
      guard String(buffer: body) == "first" else { return .proceed }
      resume = call.suspend()
      return .suspend
    }
    let run = try filterRun([checker], loop: loop, host: host)
    run.start()
    run.requestBody(ByteBuffer(string: "first"))
    run.requestBody(ByteBuffer(string: "second"))
    run.requestEnd(nil)
    XCTAssertEqual(host.requestBody, "")
    resume?.proceed()
    XCTAssertEqual(host.requestBody, "firstsecond")
    XCTAssertEqual(host.events.last, .requestEnd)
  }

  /// Per-request state is one slot per filter; per-loop state is found again by the next request on the
  /// loop, and not by another loop.
  func testPerRequestAndPerLoopState() throws {
    final class Counter { var count = 0 }
    let key = LoopStateKey("test-counter")
    let counting = ScriptedFilter([.requestHead])
    counting.onRequestHead = { call in
      call.loopState(key) { Counter() }.count += 1
      call.state(at: 0) { Counter() }.count += 1
      XCTAssertEqual(call.state(at: 0) { Counter() }.count, 1, "a request's own state starts afresh")
      return .proceed
    }
    for _ in 0..<3 { try filterRun([counting], loop: loop, host: host).start() }
    XCTAssertEqual(loop.filterState(key) { Counter() }.count, 3)
    let otherLoop = try embeddedLoopContext(EmbeddedEventLoop())
    try filterRun([counting], loop: otherLoop, host: host).start()
    XCTAssertEqual(otherLoop.filterState(key) { Counter() }.count, 1)
    XCTAssertEqual(loop.filterState(key) { Counter() }.count, 3)
    // A name stands for one slot, whoever makes the key.
    XCTAssertEqual(LoopStateKey("test-counter"), key)
    XCTAssertNotEqual(LoopStateKey("test-counter-2"), key)
  }

  /// Equal settings share one filter, and equal lists of filters one chain; a route with no policy has none.
  func testFiltersAreSharedByRoutesWithTheSameSettings() throws {
    let manifests =
      gatewayManifest() + staticDestination("echo", ports: [9])
      + virtualHost(
        "share.test",
        routes: """
            - matchers: [{uri: {prefix: /a}}]
              options: {corsPolicy: {allowOrigins: [{exact: "https://a.test"}]}}
              directResponseAction: {status: 200}
            - matchers: [{uri: {prefix: /b}}]
              options: {corsPolicy: {allowOrigins: [{exact: "https://a.test"}]}}
              directResponseAction: {status: 200}
            - matchers: [{uri: {prefix: /c}}]
              options: {corsPolicy: {allowOrigins: [{exact: "https://a.test"}]}, maxRequestBodyBytes: 10}
              directResponseAction: {status: 200}
            - matchers: [{uri: {prefix: /d}}]
              directResponseAction: {status: 200}
          """)
    let translation = Translator().translate(
      ManifestLoader().load(text: manifests, file: "share.yaml"), for: TestGateway.identity)
    let routes = try XCTUnwrap(translation.config.virtualHosts.first?.routes)
    let builder = FilterBuilder()
    let built = routes.map { builder.filters(for: $0) }
    XCTAssertTrue(built[0] === built[1], "one chain for equal settings")
    XCTAssertEqual(built[2]?.count, 2)
    XCTAssertTrue(built[2]?[0] === built[0]?[0], "the CORS filter is shared across chains")
    XCTAssertNil(built[3], "a route without policies has no filters")
  }
}
