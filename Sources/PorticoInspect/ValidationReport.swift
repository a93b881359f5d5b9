/// What `portico validate` prints: every error and warning of a folder, in file order.
public struct ValidationReport: Sendable {
  public let check: FolderCheck
  public let resourceCount: Int

  public init(snapshot: ResourceSnapshot) {
    check = Translator().check(snapshot)
    resourceCount = check.statuses.count
  }

  public var hasErrors: Bool { check.hasErrors }

  public var text: String {
    var lines = check.diagnostics.map { "\($0.severity.rawValue): \($0)" }
    let errors = check.diagnostics.errors.count
    let warnings = check.diagnostics.warnings.count
    lines.append(
      "\(errors == 0 ? "ok" : "invalid"): \(resourceCount) resources, \(errors) error\(errors == 1 ? "" : "s"), "
        + "\(warnings) warning\(warnings == 1 ? "" : "s")")
    return lines.joined(separator: "\n") + "\n"
  }

  private struct JSONShape: Encodable {
    let valid: Bool
    let resources: Int
    let errors: [Diagnostic]
    let warnings: [Diagnostic]
    let statuses: [ResourceStatus]
  }

  public var json: String {
    Formatting.json(
      JSONShape(
        valid: !hasErrors, resources: resourceCount, errors: check.diagnostics.errors,
        warnings: check.diagnostics.warnings, statuses: check.statuses))
  }
}
