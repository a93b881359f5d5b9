import PorticoCore

/// Changes a filter asks for on one head, for one request: names dropped, then fields added, applied after
/// the route's own `HeaderPlan` by the same writer (so a removal here also drops what the plan appends).
/// Built for the hot path: a filter can hand over a shared list of names to drop without copying it, and
/// nothing is lowercased per request.
struct FieldEdits {
  /// Lowercased.
  private(set) var removed: [String] = []
  private(set) var added: [(name: String, value: String)] = []

  var isEmpty: Bool { removed.isEmpty && added.isEmpty }

  /// Drops fields named `lowercasedName`, and what was added under it before. Protected fields stay.
  mutating func remove(_ lowercasedName: String) {
    guard !Self.isProtected(lowercasedName) else { return }
    if !removed.contains(lowercasedName) { removed.append(lowercasedName) }
    added.removeAll { $0.name.equalsIgnoringASCIICase(lowercasedName) }
  }

  /// Drops every field named in `lowercasedNames`, a list the caller keeps (shared, not copied, when
  /// nothing was removed before). The names must not be protected.
  mutating func remove(all lowercasedNames: [String]) {
    guard removed.isEmpty, added.isEmpty else {
      for name in lowercasedNames { remove(name) }
      return
    }
    removed = lowercasedNames
  }

  /// Adds a field. Protected fields are not added.
  mutating func add(_ name: String, _ value: String) {
    guard !Self.isProtected(name) else { return }
    // One allocation for the few fields a filter adds, not one per doubling.
    if added.isEmpty { added.reserveCapacity(4) }
    added.append((name, value))
  }

  /// Applies `other`'s removals, then its additions.
  mutating func merge(_ other: FieldEdits) {
    for name in other.removed { remove(name) }
    for field in other.added { add(field.name, field.value) }
  }

  func removes(_ name: some StringProtocol) -> Bool {
    !removed.isEmpty && removed.contains { name.equalsIgnoringASCIICase($0) }
  }

  static func isProtected(_ name: String) -> Bool {
    HeaderPlan.protectedNames.contains { name.equalsIgnoringASCIICase($0) }
  }
}
