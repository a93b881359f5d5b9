import PorticoCore

/// Changes a filter asks for on one head, for one request: names dropped, then fields added, applied after
/// the route's own `HeaderPlan` by the same writer (so a removal here also drops what the plan appends).
/// Built for the hot path: a filter can hand over a shared list of names to drop without copying it, and
/// nothing is lowercased per request.
struct FieldEdits {
  /// Lowercased. Names removed one at a time, or the first list a filter handed over whole.
  private var removed: [String] = []
  /// Lowercased: the second list handed over whole (an auth check's claim headers, then the token it
  /// takes out), kept apart so that neither shared list is copied.
  private var alsoRemoved: [String] = []
  private(set) var added: [(name: String, value: String)] = []

  var isEmpty: Bool { removed.isEmpty && alsoRemoved.isEmpty && added.isEmpty }

  /// Drops fields named `lowercasedName`, and what was added under it before. Protected fields stay.
  mutating func remove(_ lowercasedName: String) {
    guard !Self.isProtected(lowercasedName) else { return }
    if !removes(lowercasedName) { removed.append(lowercasedName) }
    if !added.isEmpty { added.removeAll { $0.name.equalsIgnoringASCIICase(lowercasedName) } }
  }

  /// Drops every field named in `lowercasedNames`, a list the caller keeps: shared, not copied, for the
  /// first two lists handed over before anything was added. Protected fields stay.
  mutating func remove(all lowercasedNames: [String]) {
    guard !lowercasedNames.isEmpty else { return }
    if added.isEmpty, !lowercasedNames.contains(where: Self.isProtected) {
      if removed.isEmpty {
        removed = lowercasedNames
        return
      }
      if alsoRemoved.isEmpty {
        alsoRemoved = lowercasedNames
        return
      }
    }
    for name in lowercasedNames { remove(name) }
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
    for name in other.alsoRemoved { remove(name) }
    for field in other.added { add(field.name, field.value) }
  }

  func removes(_ name: some StringProtocol) -> Bool {
    (!removed.isEmpty && removed.contains { name.equalsIgnoringASCIICase($0) })
      || (!alsoRemoved.isEmpty && alsoRemoved.contains { name.equalsIgnoringASCIICase($0) })
  }

  static func isProtected(_ name: String) -> Bool {
    let length = name.utf8.count
    // Most names have no protected name's length: one bit test settles them.
    guard length < 64, protectedLengths & (1 << length) != 0 else { return false }
    return HeaderPlan.protectedNames.contains { name.equalsIgnoringASCIICase($0) }
  }

  /// Bit `n` is set when some protected name is `n` bytes long.
  private static let protectedLengths: UInt64 = HeaderPlan.protectedNames.reduce(0) {
    $0 | 1 << $1.utf8.count
  }
}
