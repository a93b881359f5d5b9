/// An error or warning about a manifest, placed at a file, line, column and field path.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
  public enum Severity: String, Hashable, Sendable, Codable {
    case error
    case warning
  }

  public var severity: Severity
  public var location: SourceLocation?
  public var path: FieldPath
  public var message: String

  public init(_ severity: Severity, at location: SourceLocation?, path: FieldPath = [], _ message: String) {
    self.severity = severity
    self.location = location
    self.path = path
    self.message = message
  }

  public var isError: Bool { severity == .error }

  /// `file:line:column: path: message`, the form editors and CI logs link to.
  public var description: String {
    var text = location.map { "\($0): " } ?? ""
    if !path.components.isEmpty { text += "\(path): " }
    return text + message
  }
}

extension Array where Element == Diagnostic {
  public var errors: [Diagnostic] { filter(\.isError) }
  public var warnings: [Diagnostic] { filter { !$0.isError } }
  public var hasErrors: Bool { contains(where: \.isError) }
}
