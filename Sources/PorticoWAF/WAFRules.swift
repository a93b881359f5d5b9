import CModSecurity
import Foundation
import Synchronization

/// A compiled ModSecurity rule set, shared by every route (and thread) that uses the same rules: libmodsecurity
/// only reads a rule set while transactions run. Compiling is done once per distinct set of sources (the
/// text, and each rule file's size and modification time), whoever asks first: the translator checking a
/// configuration, then the gateway building its filters, find the same set.
public final class WAFRules: @unchecked Sendable {
  // @unchecked: the rule set is never changed after it is compiled.
  let handle: OpaquePointer
  /// How many rules the set holds.
  public let ruleCount: Int

  private init(handle: OpaquePointer, ruleCount: Int) {
    self.handle = handle
    self.ruleCount = ruleCount
  }

  deinit { msc_rules_cleanup(handle) }

  /// The sources compiled in order, from the cache when they were compiled before.
  public static func compile(_ sources: [WAFRuleSource]) throws(WAFRuleError) -> WAFRules {
    let assembled = Assembled(sources)
    let key = assembled.text + "\u{0}" + assembled.fileStamps
    if let known = cache.withLock({ $0.find(key) }) { return known }
    let rules = try compile(assembled)
    cache.withLock { $0.keep(rules, for: key) }
    return rules
  }

  private static func compile(_ assembled: Assembled) throws(WAFRuleError) -> WAFRules {
    _ = WAFEngine.shared  // ModSecurity's instance first: it sets up what rules rely on.
    guard let handle = msc_create_rules_set() else {
      throw WAFRuleError(file: "rules", line: nil, reason: "ModSecurity could not make a rule set")
    }
    var error: UnsafePointer<CChar>?
    let count = msc_rules_add(handle, assembled.text, &error)
    guard count >= 0 else {
      let message = error.map { String(cString: $0) } ?? "the rules do not compile"
      free(UnsafeMutableRawPointer(mutating: error))
      msc_rules_cleanup(handle)
      throw assembled.locate(message)
    }
    return WAFRules(handle: handle, ruleCount: Int(count))
  }

  private static let cache = Mutex(RecentRuleSets())
}

/// The last few rule sets compiled, by key: a reload that keeps its rules finds them compiled. Sets in use
/// are kept alive by their filters whether or not they are still here.
private struct RecentRuleSets {
  private var entries: [(key: String, rules: WAFRules)] = []
  private static let limit = 16

  mutating func find(_ key: String) -> WAFRules? {
    guard let index = entries.firstIndex(where: { $0.key == key }) else { return nil }
    let entry = entries.remove(at: index)
    entries.append(entry)
    return entry.rules
  }

  mutating func keep(_ rules: WAFRules, for key: String) {
    entries.removeAll { $0.key == key }
    entries.append((key, rules))
    if entries.count > Self.limit { entries.removeFirst(entries.count - Self.limit) }
  }
}

/// Sources as the one text ModSecurity compiles (files by `Include`, so that `SecDefaultAction` and the
/// like carry from one piece to the next as in one configuration), and where each inline piece's lines are.
private struct Assembled {
  var text = ""
  /// The size and modification time of each rule file, so that an edited file is compiled again.
  var fileStamps = ""
  /// Each piece's first line in `text`, its line count, and its origin (a file's `Include` line counts
  /// as the file: an error on it, such as a file that cannot be read, is the file's).
  var pieces: [(first: Int, count: Int, origin: String, isFile: Bool)] = []

  init(_ sources: [WAFRuleSource]) {
    var line = 1
    for source in sources {
      switch source.content {
      case .text(let rules, let origin):
        let count = rules.split(separator: "\n", omittingEmptySubsequences: false).count
        pieces.append((line, count, origin, false))
        text += rules + "\n"
        line += count
      case .file(let path):
        text += "Include \"\(path)\"\n"
        pieces.append((line, 1, path, true))
        line += 1
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? Int) ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        fileStamps += "\(path)\u{1}\(size)\u{1}\(modified)\u{2}"
      }
    }
  }

  /// ModSecurity's error (`Rules error. File: F. Line: N. Column: C. reason`) in terms of the sources: a
  /// rule file and its line, or an inline piece's origin and the line within it.
  func locate(_ message: String) -> WAFRuleError {
    let pattern = /Rules error\. File: (.*?)\. Line: (\d+)\. Column: \d+\. (.*)/.dotMatchesNewlines()
    guard let match = message.firstMatch(of: pattern), let line = Int(match.2) else {
      return WAFRuleError(file: pieces.first?.origin ?? "rules", line: nil, reason: message)
    }
    let reason = String(match.3).trimmingCharacters(in: .whitespacesAndNewlines)
    let file = String(match.1)
    if !file.hasPrefix("<<") { return WAFRuleError(file: file, line: line, reason: reason) }
    for piece in pieces where line >= piece.first && line < piece.first + piece.count {
      return WAFRuleError(
        file: piece.origin, line: piece.isFile ? nil : line - piece.first + 1, reason: reason)
    }
    return WAFRuleError(file: pieces.last?.origin ?? "rules", line: nil, reason: reason)
  }
}
