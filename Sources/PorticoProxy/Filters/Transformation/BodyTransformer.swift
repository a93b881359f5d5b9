import CoreMetrics
import NIOCore
import PorticoRouting
import PorticoTranslate
import PorticoXSLT

/// What both transformation filters do with a whole body: choose the entry (the first that matches, once
/// per message, remembered on the call for both phases and both stages; a request entry runs in its own
/// stage only), run its transformation, and put the result and its content type in place. A message
/// without a body, or with an empty one, goes as it is. A failure answers 400 for a request and 502 for a
/// response, saying why, and is counted.
struct BodyTransformer: Sendable {
  private let config: TransformationConfig
  /// Request entries before auth (`applyBeforeAuth`), or after it.
  private let early: Bool
  private let metricsKey: LoopStateKey

  init(_ config: TransformationConfig, early: Bool) {
    self.config = config
    self.early = early
    metricsKey = LoopStateKey("transformation.metrics." + config.setBy)
  }

  var transformsResponses: Bool { !config.response.isEmpty }

  /// The first request entry that matches, when it belongs to this stage.
  private func requestEntry(_ call: FilterCall) -> TransformationConfig.RequestEntry? {
    if case .undecided = call.requestTransformation {
      let position = config.request.firstIndex { entry in
        entry.matchers.isEmpty || entry.matchers.contains { $0.firstMismatch(call.request) == nil }
      }
      call.requestTransformation = position.map(TransformationPick.entry) ?? .none
    }
    guard case .entry(let position) = call.requestTransformation,
      config.request[position].applyBeforeAuth == early
    else { return nil }
    return config.request[position]
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard call.request.framing != .none, requestEntry(call) != nil else { return .proceed }
    if let coding = call.request.head.firstValue(named: "content-encoding"),
      !coding.trimmingSpaces.equalsIgnoringASCIICase("identity")
    {
      series(call).failed(request: true).increment()
      return .answer(LocalAnswer(status: 415, body: "a transformed request body must not be compressed\n"))
    }
    return .buffer
  }

  func requestBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end, body.readableBytes > 0, let entry = requestEntry(call) else { return .proceed }
    switch run(entry.transformation, on: body) {
    case .success(let output):
      body = output
      setContentType(entry.transformation, in: &call.upstreamHeaders)
      series(call).transformed(request: true).increment()
      return .proceed
    case .failure(let reason):
      series(call).failed(request: true).increment()
      return .answer(LocalAnswer(status: 400, body: "the request could not be transformed: \(reason)\n"))
    }
  }

  /// The first response entry whose conditions hold.
  private func responseEntry(_ call: FilterCall, _ response: ResponseView) -> TransformationConfig
    .ResponseEntry?
  {
    if case .undecided = call.responseTransformation {
      let position = config.response.firstIndex { entry in
        entry.matchers.isEmpty || entry.matchers.contains { $0.matches(response) }
      }
      call.responseTransformation = position.map(TransformationPick.entry) ?? .none
    }
    guard case .entry(let position) = call.responseTransformation else { return nil }
    return config.response[position]
  }

  func responseHead(_ call: FilterCall) -> FilterVerdict {
    guard let response = call.response, Self.hasBody(response, call), responseEntry(call, response) != nil
    else {
      return .proceed
    }
    if let coding = response.field("content-encoding"),
      !coding.trimmingSpaces.equalsIgnoringASCIICase("identity")
    {
      series(call).failed(request: false).increment()
      return .answer(LocalAnswer(status: 502, body: "the upstream's response is compressed\n"))
    }
    return .buffer
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard end, body.readableBytes > 0, let response = call.response, Self.hasBody(response, call),
      let entry = responseEntry(call, response)
    else {
      return .proceed
    }
    switch run(entry.transformation, on: body) {
    case .success(let output):
      body = output
      setContentType(entry.transformation, in: &call.responseHeaders)
      series(call).transformed(request: false).increment()
      return .proceed
    case .failure(let reason):
      series(call).failed(request: false).increment()
      return .answer(
        LocalAnswer(status: 502, body: "the upstream's response could not be transformed: \(reason)\n"))
    }
  }

  /// An upstream's response that can carry a body: not to a HEAD request, not 1xx, 204 or 304. The
  /// gateway's own answers are never transformed.
  private static func hasBody(_ response: ResponseView, _ call: FilterCall) -> Bool {
    response.isFromUpstream && call.request.methodKind != .head && response.status >= 200
      && response.status != 204 && response.status != 304
  }

  private func run(_ transform: TransformationConfig.Transform, on body: ByteBuffer) -> Result<
    ByteBuffer, TransformationFailure
  > {
    switch transform {
    case .xslt(let xslt):
      return body.withUnsafeReadableBytes { bytes in
        do throws(TransformationFailure) {
          let output: [UInt8]
          if xslt.nonXmlTransform {
            let document = try Self.catching { () throws(JSONToXMLError) in try JSONToXML.convert(bytes) }
            output = try Self.catching { () throws(XSLTError) in try xslt.stylesheet.apply(to: document) }
          } else {
            output = try Self.catching { () throws(XSLTError) in try xslt.stylesheet.apply(to: bytes) }
          }
          return .success(ByteBuffer(bytes: output))
        } catch {
          return .failure(error)
        }
      }
    }
  }

  private static func catching<Value, Failure: Error & CustomStringConvertible>(
    _ body: () throws(Failure) -> Value
  ) throws(TransformationFailure) -> Value {
    do {
      return try body()
    } catch {
      // One line: libxslt's report can run over several.
      let lines = error.description.split(whereSeparator: \.isNewline)
      throw TransformationFailure(reason: lines.joined(separator: "; "))
    }
  }

  private func setContentType(_ transform: TransformationConfig.Transform, in edits: inout FieldEdits) {
    switch transform {
    case .xslt(let xslt):
      guard let type = xslt.setContentType ?? xslt.stylesheet.mediaType else { return }
      edits.remove("content-type")
      edits.add("content-type", type)
    }
  }

  private func series(_ call: FilterCall) -> TransformationSeries {
    call.loopState(metricsKey) {
      TransformationSeries(factory: call.loop.services.metrics.factory, setBy: config.setBy)
    }
  }
}

/// Which entry of a route's transformations applies to a message, once chosen.
enum TransformationPick {
  case undecided
  case none
  case entry(Int)
}

/// Why a body could not be transformed, said to the client.
struct TransformationFailure: Error, CustomStringConvertible {
  let reason: String
  var description: String { reason }
}

extension TransformationConfig.ResponseCondition {
  /// Every header condition holds (`:status` reads the status). `responseCodeDetails` needs no check here:
  /// validation accepts only `via_upstream`, and only upstream responses are transformed.
  func matches(_ response: ResponseView) -> Bool {
    headers.allSatisfy { condition in
      condition.matches { name, accepts in
        name == ":status"
          ? accepts(String(response.status)[...]) : response.containsHeader(name, where: accepts)
      }
    }
  }
}

/// `portico_transformations_total{transformation,direction,outcome}` on one loop: bodies rewritten, and
/// bodies that could not be (answered 400 or 502, or 415 for a compressed request).
final class TransformationSeries: Sendable {
  private let counters: [CoreMetrics.Counter]

  init(factory: any MetricsFactory, setBy: String) {
    var counters: [CoreMetrics.Counter] = []
    for direction in ["request", "response"] {
      for outcome in ["transformed", "failed"] {
        counters.append(
          CoreMetrics.Counter(
            label: "portico_transformations_total",
            dimensions: [("transformation", setBy), ("direction", direction), ("outcome", outcome)],
            factory: factory))
      }
    }
    self.counters = counters
  }

  func transformed(request: Bool) -> CoreMetrics.Counter { counters[request ? 0 : 2] }
  func failed(request: Bool) -> CoreMetrics.Counter { counters[request ? 1 : 3] }
}
