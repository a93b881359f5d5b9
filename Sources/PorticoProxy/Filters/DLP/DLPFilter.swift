import CoreMetrics
import NIOCore
import PorticoTranslate

/// `dlp`: masks card numbers, social security numbers and custom patterns in response bodies as they
/// stream. The last `window` bytes of each piece wait for the next one, so that a value split across two
/// pieces is still found whole; a value is masked once nothing after it could change it. The upstream is
/// asked for an uncompressed body (`accept-encoding` is not passed on); a gzip or deflate body it sends
/// anyway is inflated, masked and sent on uncompressed, and one in another coding is refused (502, counted)
/// rather than passed unmasked. Bodies go out in chunks: their length may change.
final class DLPFilter: ConfiguredFilter {
  let phases: FilterPhases
  private let config: DLPConfig
  /// Each rule's masker; nil when a pattern does not compile (validation reports it first): every request
  /// is refused.
  private let rules: [(matcher: RouteMatcher?, masker: DLPMasker)]?
  private let metricsKey: LoopStateKey
  /// Bytes held back from each piece for the next: longer than any value the predefined actions find.
  static let window = 256
  /// The most held back while a custom pattern's match keeps running to the end of each piece.
  static let carryLimit = 16 * window

  static func settings(for route: RouteConfig) -> DLPConfig? { route.dlp }

  init(_ config: DLPConfig) {
    self.config = config
    var rules: [(matcher: RouteMatcher?, masker: DLPMasker)] = []
    for rule in config.rules {
      guard let masker = DLPMasker(rule.actions) else {
        rules = []
        break
      }
      rules.append((rule.matcher, masker))
    }
    self.rules = rules.count == config.rules.count ? rules : nil
    metricsKey = LoopStateKey("dlp.metrics." + config.setBy)
    var phases: FilterPhases = [.requestHead]
    if config.masksResponseBodies { phases.formUnion([.responseHead, .responseBody, .rewritesResponseBody]) }
    self.phases = phases
  }

  /// The first rule that matches the request chooses the masker; none, nothing is masked.
  func requestHead(_ call: FilterCall) -> FilterVerdict {
    guard let rules else { return .answer(LocalAnswer(status: 500, body: "DLP configuration error\n")) }
    guard let rule = rules.first(where: { $0.matcher?.firstMismatch(call.request) == nil }) else {
      return .proceed
    }
    if config.masksAccessLogs { call.accessLogMasker = rule.masker }
    if config.masksResponseBodies {
      call.dlp = DLPStream(masker: rule.masker)
      call.upstreamHeaders.remove("accept-encoding")
    }
    return .proceed
  }

  func responseHead(_ call: FilterCall) -> FilterVerdict {
    guard let stream = call.dlp, let response = call.response else { return .proceed }
    guard let coding = response.field("content-encoding")?.trimmingSpaces,
      !coding.isEmpty, !coding.equalsIgnoringASCIICase("identity")
    else { return .proceed }
    guard ["gzip", "x-gzip", "deflate"].contains(where: { coding.equalsIgnoringASCIICase($0) }) else {
      call.dlp = nil
      let series = series(call)
      guard !config.passesUnreadableBodies else {
        series.passedUnread.increment()
        return .proceed
      }
      series.unreadable.increment()
      return .answer(
        LocalAnswer(status: 502, body: "the upstream's response is in an encoding DLP cannot read\n"))
    }
    stream.inflater = Inflater()
    call.responseHeaders.remove("content-encoding")
    return .proceed
  }

  func responseBody(_ body: inout ByteBuffer, end: Bool, _ call: FilterCall) throws -> FilterVerdict {
    guard let stream = call.dlp else { return .proceed }
    var bytes = stream.carry
    if let inflater = stream.inflater {
      bytes += try inflater.inflate(body)
    } else {
      bytes.append(contentsOf: body.readableBytesView)
    }
    let final = end ? bytes.count : max(0, bytes.count - Self.window)
    var (held, findings) = stream.masker.mask(&bytes, finalUpTo: final)
    var cut = end ? bytes.count : min(held, final)
    if bytes.count - cut > Self.carryLimit {
      // A value still running past the carry's bound (a custom pattern such as `\w+` over a long run) is
      // masked as far as it has come and sent, rather than held without end.
      var tail = Array(bytes[cut...])
      findings.counts += stream.masker.mask(&tail, finalUpTo: tail.count).findings.counts
      bytes.replaceSubrange(cut..., with: tail)
      cut = bytes.count
    }
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

/// One response's masker, the bytes waiting for its next piece, and its inflater when it came compressed.
final class DLPStream {
  let masker: DLPMasker
  var carry: [UInt8] = []
  var inflater: Inflater?

  init(masker: DLPMasker) { self.masker = masker }
}

/// `portico_dlp_values_total{rules,action,mode}` (masked, or found in shadow mode) and
/// `portico_dlp_unreadable_responses_total{rules,outcome}` (responses in a coding DLP cannot read: `refused`
/// with 502, or `passed` unmasked as `unreadableBodies: PASS_UNMASKED` allows), on one loop.
final class DLPSeries {
  private let factory: any MetricsFactory
  private let rules: String
  let unreadable: CoreMetrics.Counter
  let passedUnread: CoreMetrics.Counter
  private var values: [String: CoreMetrics.Counter] = [:]

  init(factory: any MetricsFactory, rules: String) {
    self.factory = factory
    self.rules = rules
    unreadable = CoreMetrics.Counter(
      label: "portico_dlp_unreadable_responses_total",
      dimensions: [("rules", rules), ("outcome", "refused")],
      factory: factory)
    passedUnread = CoreMetrics.Counter(
      label: "portico_dlp_unreadable_responses_total", dimensions: [("rules", rules), ("outcome", "passed")],
      factory: factory)
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
