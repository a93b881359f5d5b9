import PorticoAPI

/// One level of options a route inherits (a gateway's route options, a TrafficPolicy, the virtual host, a
/// delegating route, the route itself), with where its fields are written, so that a finding about a field
/// points at the line that set it.
struct OptionLayer {
  let policy: Policy?
  let origin: OptionOrigin
  let source: SourceDocument
  /// Where the options object sits in its document.
  let path: FieldPath
  /// Field names that this level spells differently (a VirtualGateway's `routeOptions.extauth` is the
  /// `extauthSettings` of the options it stands for).
  var spelling: [String: String] = [:]

  /// Where `field` (a top-level option name, then any nested keys) is written in this level's document.
  func path(of field: [String]) -> FieldPath {
    var path = self.path.appending(spelling[field[0]] ?? field[0])
    for key in field.dropFirst() { path = path.appending(key) }
    return path
  }
}
