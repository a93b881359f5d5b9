/// A percentage of requests (fault injection, CSRF checks, mirroring): whether one request falls in it
/// is one draw of the loop's generator.
struct RequestShare: Sendable {
  private static let scale = 1_000_000
  /// Out of `scale`.
  private let threshold: Int

  /// `percentage` from 0 to 100; nil means every request.
  init(percentage: Double?) {
    threshold = Int(((percentage ?? 100) / 100 * Double(Self.scale)).rounded())
  }

  func includes(random: inout LoopRandom) -> Bool {
    threshold >= Self.scale || (threshold > 0 && random.next(below: Self.scale) < threshold)
  }
}
