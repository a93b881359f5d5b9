import PorticoAPI

/// A rule a request matched: the counter it adds to, and the limit on it.
public struct RuleHit: Hashable, Sendable {
  /// The RateLimitServerConfig, `namespace/name`.
  public let config: String
  /// The rule, as users read it: `generic_key=per-second.user`, or `set[0]`.
  public let rule: String
  /// What the counter is named after, with `entries`: the config (and for a set-style rule, the rule).
  public let scope: String
  /// The request's entries the counter is kept by, so that keys without a value count each value apart.
  public let entries: [DescriptorEntry]
  public let limit: RateLimit
  /// Counted and reported, never refused.
  public let shadow: Bool
  /// The rule's number in its rule set, 0 to `RateLimitRuleSet.ruleCount - 1`: what per-rule state (metrics)
  /// is kept by, without hashing names.
  public let index: Int

  /// The counter's name: the scope, then each entry as `key=value`. Rules of different configs never share
  /// one. Built only where a name is needed (a shared store's key); the local store hashes the parts.
  public var counter: String {
    var name = scope
    for entry in entries {
      name.append("\u{1}")
      name.append(entry.key)
      name.append("=")
      name.append(entry.value)
    }
    return name
  }

  /// Feeds `hasher` the bytes of `counter`, without building it.
  public func hashCounter(into hasher: inout Hasher) {
    hasher.combineBytes(of: scope)
    for entry in entries {
      hasher.combineBytes(of: "\u{1}")
      hasher.combineBytes(of: entry.key)
      hasher.combineBytes(of: "=")
      hasher.combineBytes(of: entry.value)
    }
  }
}

extension Hasher {
  /// Feeds a string's UTF-8 bytes, with no terminator: pieces fed in turn hash as the string they make.
  mutating func combineBytes(of text: String) {
    let fed: Void? = text.utf8.withContiguousStorageIfAvailable { combine(bytes: UnsafeRawBufferPointer($0)) }
    if fed == nil { for byte in text.utf8 { combine(byte) } }
  }
}

/// The rules of one or more RateLimitServerConfigs, compiled into trees, and the rules a request's
/// descriptors match, as Envoy's rate-limit service and Gloo decide them.
public struct RateLimitRuleSet: Sendable {
  public struct Config: Sendable {
    public let id: String
    public let rules: RateLimitRules

    public init(id: String, rules: RateLimitRules) {
      self.id = id
      self.rules = rules
    }
  }

  private let configs: [CompiledConfig]
  /// How many rules (descriptor tree nodes and set-style rules) the set has.
  public let ruleCount: Int

  /// Each rule's config and name, by its number (the root of each tree has a number and no name).
  public let labels: [(config: String, rule: String)]

  public init(_ configs: [Config]) {
    let numbering = Numbering()
    let compiled = configs.map { CompiledConfig($0, numbering: numbering) }
    self.configs = compiled
    ruleCount = numbering.next
    var labels = [(config: String, rule: String)](repeating: ("", ""), count: numbering.next)
    for config in compiled {
      config.root.visit { labels[$0.index] = (config.id, $0.name) }
      for rule in config.setRules { labels[rule.number] = (config.id, rule.name) }
    }
    self.labels = labels
  }

  /// Every rule the descriptors hit:
  /// per config, for descriptors the most specific rule each reaches (only those of the highest weight among
  /// them, allow-listed ones included, and every `alwaysApply` one); for sets the first rule in list order
  /// whose pairs the set holds, and every `alwaysApply` one.
  public func hits(for descriptors: RequestDescriptors) -> [RuleHit] {
    var hits: [RuleHit] = []
    forEachHit(for: descriptors) { hits.append($0) }
    return hits
  }

  /// The same, one hit at a time, without gathering them (this runs per request).
  public func forEachHit(for descriptors: RequestDescriptors, _ body: (RuleHit) -> Void) {
    for config in configs {
      // The nodes the lists reach, kept on the stack.
      withUnsafeTemporaryAllocation(of: (DescriptorNode, Int).self, capacity: descriptors.lists.count) {
        candidates in
        var found = 0
        var heaviest: UInt32 = 0
        for (position, list) in descriptors.lists.enumerated() {
          guard let node = config.root.matchingNode(for: list) else { continue }
          candidates.initializeElement(at: found, to: (node, position))
          found += 1
          heaviest = max(heaviest, node.weight)
        }
        func counts(_ candidate: Int) -> Bool {
          let node = candidates[candidate].0
          return node.limit != nil && (node.weight == heaviest || node.alwaysApply)
        }
        for candidate in 0..<found where counts(candidate) {
          let (node, position) = candidates[candidate]
          let entries = descriptors.lists[position]
          // The same rule reached by two descriptors with the same values counts once.
          let repeated = (0..<candidate).contains { earlier in
            counts(earlier) && candidates[earlier].0 === node
              && descriptors.lists[candidates[earlier].1] == entries
          }
          guard !repeated, let limit = node.limit else { continue }
          body(
            RuleHit(
              config: config.id, rule: node.name, scope: config.id, entries: entries, limit: limit,
              shadow: node.shadow, index: node.index))
        }
        if found > 0 { candidates.baseAddress!.deinitialize(count: found) }
      }
      guard !descriptors.sets.isEmpty else { continue }
      var setHits: [RuleHit] = []
      for set in descriptors.sets {
        for hit in config.setHits(for: set) where !setHits.contains(hit) { setHits.append(hit) }
      }
      setHits.forEach(body)
    }
  }
}

/// One config's descriptor tree and set-style rules.
private struct CompiledConfig: Sendable {
  let id: String
  let root: DescriptorNode
  let setRules: [SetRule]

  init(_ config: RateLimitRuleSet.Config, numbering: Numbering) {
    id = config.id
    root = DescriptorNode(children: config.rules.descriptors ?? [], numbering: numbering)
    setRules = (config.rules.setDescriptors ?? []).enumerated().compactMap { index, rule in
      guard let limit = rule.rateLimit else { return nil }
      return SetRule(
        index: index, number: numbering.take(),
        pairs: (rule.simpleDescriptors ?? []).map { ($0.key, $0.value) }, limit: limit,
        alwaysApply: rule.alwaysApply ?? false, shadow: rule.shadowMode ?? false)
    }
  }

  func setHits(for set: [DescriptorEntry]) -> [RuleHit] {
    var values: [String: String] = [:]
    for entry in set where values[entry.key] == nil { values[entry.key] = entry.value }
    var hits: [RuleHit] = []
    var chosen = false
    for rule in setRules {
      guard let counted = rule.values(in: values) else { continue }
      if !rule.alwaysApply {
        guard !chosen else { continue }
        chosen = true
      }
      let entries = zip(rule.pairs, counted).map { DescriptorEntry(key: $0.key, value: $1) }
      hits.append(
        RuleHit(
          config: id, rule: rule.name, scope: id + "\u{1}" + rule.name, entries: entries,
          limit: rule.limit, shadow: rule.shadow, index: rule.number))
    }
    return hits
  }
}

/// A set-style rule: its pairs (a value may be left out: any value), its limit.
private struct SetRule: Sendable {
  let index: Int
  /// Its number in the rule set.
  let number: Int
  let pairs: [(key: String, value: String?)]
  let limit: RateLimit
  let alwaysApply: Bool
  let shadow: Bool

  var name: String { "set[\(index)]" }

  /// The request's values of this rule's keys, when the set holds every pair; nil otherwise.
  func values(in set: [String: String]) -> [String]? {
    var found: [String] = []
    for pair in pairs {
      guard let value = set[pair.key], pair.value == nil || pair.value == value else { return nil }
      found.append(value)
    }
    return found
  }
}

/// A level of a descriptor tree.
final class DescriptorNode: Sendable {
  /// The children under one key: by value, and the one for any value (a descriptor without `value`).
  struct Children: Sendable {
    var byValue: [String: DescriptorNode] = [:]
    var anyValue: DescriptorNode?
  }

  let name: String
  /// Its number in the rule set.
  let index: Int
  let limit: RateLimit?
  let weight: UInt32
  let alwaysApply: Bool
  let shadow: Bool
  /// By key first, so that a request's entry hashes its key once, and its value only where some child
  /// names values.
  let children: [String: Children]

  /// The root: no limit of its own.
  convenience init(children: [RateLimitDescriptor], numbering: Numbering) {
    self.init(
      name: "", limit: nil, weight: 0, alwaysApply: false, shadow: false, children: children,
      numbering: numbering)
  }

  private init(
    name: String, limit: RateLimit?, weight: UInt32, alwaysApply: Bool, shadow: Bool,
    children: [RateLimitDescriptor], numbering: Numbering
  ) {
    self.name = name
    index = numbering.take()
    self.limit = limit
    self.weight = weight
    self.alwaysApply = alwaysApply
    self.shadow = shadow
    var built: [String: Children] = [:]
    for child in children {
      // Validation reports a duplicate; the first wins.
      if let value = child.value {
        guard built[child.key]?.byValue[value] == nil else { continue }
      } else {
        guard built[child.key]?.anyValue == nil else { continue }
      }
      let label = child.value.map { "\(child.key)=\($0)" } ?? child.key
      let node = DescriptorNode(
        name: name.isEmpty ? label : name + "." + label, limit: child.rateLimit, weight: child.weight ?? 0,
        alwaysApply: child.alwaysApply ?? false, shadow: child.shadowMode ?? false,
        children: child.descriptors ?? [], numbering: numbering)
      if let value = child.value {
        built[child.key, default: Children()].byValue[value] = node
      } else {
        built[child.key, default: Children()].anyValue = node
      }
    }
    self.children = built
  }

  /// Calls `body` with this node and every node under it.
  func visit(_ body: (DescriptorNode) -> Void) {
    body(self)
    for under in children.values {
      for node in under.byValue.values { node.visit(body) }
      under.anyValue?.visit(body)
    }
  }

  /// Envoy's lookup: each entry in turn picks the child for its key and value, or else for its key alone;
  /// the rule is the node the last entry reaches. A descriptor that runs past the tree matches none; the
  /// node reached may have no limit (allow-listed), which still takes part in weighing.
  func matchingNode(for entries: [DescriptorEntry]) -> DescriptorNode? {
    var level = self
    for (position, entry) in entries.enumerated() {
      guard let under = level.children[entry.key] else { return nil }
      let exact = under.byValue.isEmpty ? nil : under.byValue[entry.value]
      guard let next = exact ?? under.anyValue else { return nil }
      if position == entries.count - 1 { return next }
      level = next
    }
    return nil
  }
}

/// Hands out rule numbers while a rule set is compiled.
final class Numbering {
  private(set) var next = 0

  func take() -> Int {
    defer { next += 1 }
    return next
  }
}
