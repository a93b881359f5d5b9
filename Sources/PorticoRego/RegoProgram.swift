/// A Rego policy as written: its modules (a name, as errors name it, and the source) and the query whose
/// result decides.
public struct RegoProgram: Sendable, Hashable {
  public struct Module: Sendable, Hashable {
    public var name: String
    public var source: String

    public init(name: String, source: String) {
      self.name = name
      self.source = source
    }
  }

  public var modules: [Module]
  public var query: String

  public init(modules: [Module], query: String) {
    self.modules = modules
    self.query = query
  }

  /// Compiles the policy, to report what does not compile before any request needs it.
  public func check() -> RegoError? {
    do {
      _ = try RegoEvaluator(self)
      return nil
    } catch {
      return error
    }
  }
}
