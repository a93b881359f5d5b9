import PorticoAPI
import PorticoCore
import PorticoTranslate

/// The net effect of a stack of header manipulations on one direction of a message: which fields are
/// dropped and which are added. Layers apply in order, each removing before it appends, so a later layer's
/// removal also drops what an earlier layer appended, and removing and appending one name sets it.
struct HeaderPlan: Sendable {
  /// Lowercased names dropped from the message, including fields the gateway itself would add.
  private(set) var removed: [String] = []
  private(set) var appended: [(name: String, value: HeaderValueTemplate)] = []
  /// Some appended value uses request variables (`%NAME%`).
  private(set) var usesVariables = false

  static let none = HeaderPlan()

  /// Fields no manipulation may remove or add: those that frame the message, say where it goes, or
  /// describe the connection. Changing them would let the gateway and the next hop disagree about the
  /// message.
  static let protectedNames = [
    "content-length", "transfer-encoding", "host", "connection", "keep-alive", "proxy-connection", "te",
    "trailer", "upgrade",
  ]
  static let protected = Set(protectedNames)

  var isEmpty: Bool { removed.isEmpty && appended.isEmpty }

  init() {}

  init(
    layers: some Sequence<HeaderManipulation>, remove: KeyPath<HeaderManipulation, [String]?>,
    append: KeyPath<HeaderManipulation, [String: String]?>
  ) {
    for layer in layers {
      for name in layer[keyPath: remove] ?? [] { self.remove(name) }
      for (name, value) in (layer[keyPath: append] ?? [:]).sorted(by: { $0.key < $1.key })
      where !Self.protected.contains(name.asciiLowercased) {
        // A value that does not parse has been reported by validation; it is sent as written.
        let template = (try? HeaderValueTemplate(value)) ?? HeaderValueTemplate(literal: value)
        if template.literal == nil { usesVariables = true }
        appended.append((name, template))
      }
    }
  }

  /// Drops `name` from the message, and what earlier layers appended under it. Protected fields stay.
  private mutating func remove(_ name: String) {
    let lowercased = name.asciiLowercased
    guard !Self.protected.contains(lowercased) else { return }
    if !removed.contains(lowercased) { removed.append(lowercased) }
    appended.removeAll { $0.name.equalsIgnoringASCIICase(lowercased) }
  }

  /// For a request: the route's levels, farthest first, then the chosen destination's.
  static func request(route: RouteConfig, destination: HeaderManipulation?) -> HeaderPlan {
    let levels = route.options.headerManipulations
    if levels.isEmpty, destination == nil { return .none }
    return HeaderPlan(
      layers: levels.lazy.map(\.manipulation) + (destination.map { [$0] } ?? []),
      remove: \.removeRequestHeaders, append: \.appendRequestHeaders)
  }

  /// For a response: the destination's first, then the route's levels, nearest first.
  static func response(route: RouteConfig?, destination: HeaderManipulation?) -> HeaderPlan {
    let levels = route?.options.headerManipulations ?? []
    if levels.isEmpty, destination == nil { return .none }
    return HeaderPlan(
      layers: (destination.map { [$0] } ?? []) + levels.reversed().map(\.manipulation),
      remove: \.removeResponseHeaders, append: \.appendResponseHeaders)
  }

  func removes(_ name: some StringProtocol) -> Bool {
    removed.contains { name.equalsIgnoringASCIICase($0) }
  }
}
