import PorticoCore
import PorticoTranslate

/// A route's DLP actions, compiled once: each finds its values in a stretch of body bytes and masks them,
/// in the order the actions are listed. Card numbers and social security numbers keep their last four
/// digits (`XXXX-XXXX-XXXX-1111`, `XXX-XX-6789`); a custom action masks `percent` of each match from its
/// start with its mask character (`hello` at 75%: `XXXXo`).
final class DLPMasker: Sendable {
  private enum Finder: Sendable {
    case cards(Set<CardNumbers.Brand>)
    case pattern([RE2Regex], keepsLastDigits: Bool)
  }

  private struct Action: Sendable {
    let name: String
    let finder: Finder
    let mask: UInt8
    let maskCharacter: Character
    let percent: Double
    let shadow: Bool
  }

  private let actions: [Action]

  /// Social security numbers as the SSA writes them.
  private static let ssn = #"\b\d{3}-\d{2}-\d{4}\b"#
  /// Magnetic-stripe track 1 and track 2 data (ISO/IEC 7813): account number, name, expiry and codes.
  private static let tracks = [#"%?B\d{13,19}\^[A-Za-z /.]{2,26}\^\d{7,}\??"#, #";?\d{13,19}=\d{7,}\??"#]

  init?(_ configured: [DLPConfig.Action]) {
    var actions: [Action] = []
    for action in configured {
      let finder: Finder
      switch action.type {
      case "SSN", "CREDIT_CARD_TRACKERS", "CUSTOM":
        let patterns =
          action.type == "SSN" ? [Self.ssn] : action.type == "CUSTOM" ? action.patterns : Self.tracks
        let compiled = patterns.compactMap { try? RE2Regex($0) }
        guard compiled.count == patterns.count else { return nil }
        finder = .pattern(compiled, keepsLastDigits: action.type != "CUSTOM")
      case "ALL_CREDIT_CARDS":
        finder = .cards(Set(CardNumbers.Brand.allCases))
      default:
        guard let brand = CardNumbers.Brand(rawValue: action.type) else { return nil }
        finder = .cards([brand])
      }
      let character = action.maskCharacter.first ?? "X"
      actions.append(
        Action(
          name: action.name, finder: finder, mask: character.asciiValue ?? UInt8(ascii: "X"),
          maskCharacter: character, percent: action.percent, shadow: action.shadow))
    }
    self.actions = actions
  }

  /// What masking a stretch found: per action, how many values (masked, or only counted in shadow mode).
  struct Findings {
    var counts: [(action: String, shadow: Bool, count: Int)] = []
    var total: Int { counts.reduce(0) { $0 + $1.count } }
  }

  /// Masks the values in `bytes` that end at or before `final`; a value that runs past it may go on in
  /// bytes not seen yet, so it is left, and the result's `held` is where the first such value starts
  /// (`bytes.count` when none does): bytes from there on must be seen again with what follows.
  func mask(_ bytes: inout [UInt8], finalUpTo limit: Int) -> (held: Int, findings: Findings) {
    // Both move when an action's masks change lengths (a custom mask over multi-byte characters).
    var final = limit
    var held = Int.max
    var findings = Findings()
    for action in actions {
      var replacements: [(range: Range<Int>, bytes: [UInt8])] = []
      var count = 0
      bytes.withUnsafeBufferPointer { buffer in
        func take(_ range: Range<Int>, _ masked: () -> [UInt8]) {
          guard range.upperBound <= final else { return held = min(held, range.lowerBound) }
          count += 1
          if !action.shadow { replacements.append((range, masked())) }
        }
        switch action.finder {
        case .cards(let brands):
          CardNumbers.scan(buffer) { found in
            guard brands.contains(found.brand) else { return }
            take(found.range) {
              var masked = Array(buffer[found.range])
              for position in found.digits.dropLast(4) {
                masked[position - found.range.lowerBound] = action.mask
              }
              return masked
            }
          }
        case .pattern(let patterns, let keepsLastDigits):
          for pattern in patterns {
            var from = 0
            while from <= buffer.count,
              let range = pattern.firstMatch(in: UnsafeRawBufferPointer(buffer), from: from)
            {
              from = range.isEmpty ? range.upperBound + 1 : range.upperBound
              guard !range.isEmpty else { continue }
              take(range) {
                keepsLastDigits
                  ? Self.maskingDigits(Array(buffer[range]), keeping: 4, with: action.mask)
                  : Self.maskingStart(
                    Array(buffer[range]), percent: action.percent, with: action.maskCharacter)
              }
            }
          }
        }
      }
      // A replacement of another length moves what follows it, `held` included.
      var shift = 0
      var finalShift = 0
      for replacement in replacements {
        let change = replacement.bytes.count - replacement.range.count
        finalShift += change  // every replacement ends at or before `final`
        if replacement.range.upperBound <= held { shift += change }
      }
      final += finalShift
      for replacement in replacements.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
        bytes.replaceSubrange(replacement.range, with: replacement.bytes)
      }
      if held != .max { held += shift }
      if count > 0 { findings.counts.append((action.name, action.shadow, count)) }
    }
    return (min(held, bytes.count), findings)
  }

  /// `text` with every value masked (shadow actions leave theirs): for what the access log shows.
  func masked(_ text: Substring) -> Substring {
    var bytes = Array(text.utf8)
    _ = mask(&bytes, finalUpTo: bytes.count)
    return Substring(decoding: bytes, as: UTF8.self)
  }

  /// Every digit but the last `kept` replaced with `mask`.
  private static func maskingDigits(_ bytes: [UInt8], keeping kept: Int, with mask: UInt8) -> [UInt8] {
    var masked = bytes
    let digits = masked.indices.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(masked[$0]) }
    for index in digits.dropLast(kept) { masked[index] = mask }
    return masked
  }

  /// The first `percent` of the characters (rounded up) replaced with `mask`.
  private static func maskingStart(_ bytes: [UInt8], percent: Double, with mask: Character) -> [UInt8] {
    let text = String(decoding: bytes, as: UTF8.self)
    let count = text.count
    let masked = min(count, Int((Double(count) * percent / 100).rounded(.up)))
    return Array((String(repeating: mask, count: masked) + text.dropFirst(masked)).utf8)
  }
}
