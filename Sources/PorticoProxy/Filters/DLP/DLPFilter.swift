import CoreMetrics
import NIOCore
import PorticoTranslate

/// `dlp`: masks card numbers, social security numbers and custom patterns in response bodies as they
/// stream. The last `window` bytes of each piece wait for the next one, so that a value split across two
/// pieces is still found whole; a value is masked once nothing after it could change it. The upstream is
/// asked for an uncompressed body (`accept-encoding` is not passed on); a body it compresses anyway goes out
/// unmasked, and is counted.
final class DLPFilter: ConfiguredFilter {
  let phases: FilterPhases
  private let config: DLPConfig
  /// Nil when a pattern does not compile (validation reports it first): every request is refused.
  private let masker: DLPMasker?
  private let metricsKey: LoopStateKey
  /// Bytes held back from each piece for the next: longer than any value the predefined actions find.
  static let window = 256

  static func settings(for route: RouteConfig) -> DLPConfig? { route.dlp }

  init(_ config: DLPConfig) {
    self.config = config
    masker = DLPMasker(config)
    metricsKey = LoopStateKey("dlp.metrics." + config.setBy)
    var phases: FilterPhases = [.requestHead, .responseHead, .responseBody]
    if masker?.mayChangeLength ?? false { phases.insert(.rewritesResponseBody) }
    self.phases = phases
  }

  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard masker != nil else { return .answer(LocalAnswer(status: 500, body: "DLP configuration error\n")) }
    call.upstreamHeaders.remove("accept-encoding")
    return .proceed
  }

  func responseHead(_ call: FilterCall) -> FilterVerdict {
    guard let response = call.response else { return .proceed }
    if let coding = response.field("content-encoding"),
      !coding.trimmingSpaces.equalsIgnoringASCIICase("identity")
    {
      series(call).unmasked.increment()
      return .proceed
    }
    call.dlp = DLPStream()
    return .proceed
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) -> FilterVerdict {
    guard let stream = call.dlp, let masker else { return .proceed }
    var bytes = stream.carry
    bytes.append(contentsOf: body.readableBytesView)
    let final = end ? bytes.count : max(0, bytes.count - Self.window)
    let (held, findings) = masker.mask(&bytes, finalUpTo: final)
    let cut = end ? bytes.count : min(held, final)
    stream.carry = Array(bytes[cut...])
    body = ByteBuffer(bytes: bytes[..<cut])
    if findings.total > 0 {
      let metrics = series(call)
      for found in findings.counts { metrics.count(found.action, shadow: found.shadow, by: found.count) }
    }
    if end { call.dlp = nil }
    return .proceed
  }

  private func series(_ call: FilterCall) -> DLPSeries {
    call.loopState(metricsKey) { DLPSeries(factory: call.loop.services.metrics.factory, rules: config.setBy) }
  }
}

/// One response's bytes waiting for the next piece.
final class DLPStream {
  var carry: [UInt8] = []
}

/// `portico_dlp_values_total{rules,action,mode}` (masked, or found in shadow mode) and
/// `portico_dlp_unmasked_responses_total{rules}` (compressed bodies that went out as they came), on one
/// loop.
final class DLPSeries {
  private let factory: any MetricsFactory
  private let rules: String
  let unmasked: CoreMetrics.Counter
  private var values: [String: CoreMetrics.Counter] = [:]

  init(factory: any MetricsFactory, rules: String) {
    self.factory = factory
    self.rules = rules
    unmasked = CoreMetrics.Counter(
      label: "portico_dlp_unmasked_responses_total", dimensions: [("rules", rules)], factory: factory)
  }

  func count(_ action: String, shadow: Bool, by amount: Int) {
    let key = action + (shadow ? "\u{1}shadow" : "\u{1}masked")
    let counter =
      values[key]
      ?? CoreMetrics.Counter(
        label: "portico_dlp_values_total",
        dimensions: [("rules", rules), ("action", action), ("mode", shadow ? "shadow" : "masked")],
        factory: factory)
    values[key] = counter
    counter.increment(by: amount)
  }
}
