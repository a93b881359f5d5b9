/// Checks what decoding cannot: one-of choices, value ranges, domains, durations and regexes (compiled here,
/// once, with RE2). Every finding is placed at the field it is about.
struct Validator {
  let source: SourceDocument
  var regexes: RegexTable
  var diagnostics: [Diagnostic] = []

  static func validate(_ snapshot: inout ResourceSnapshot) {
    var regexes = snapshot.regexes
    func run<Spec>(_ list: inout [Resource<Spec>], _ check: (inout Validator, Spec) -> Void) {
      for index in list.indices {
        var validator = Validator(source: list[index].source, regexes: regexes)
        check(&validator, list[index].spec)
        list[index].diagnostics += validator.diagnostics
        regexes = validator.regexes
      }
    }
    run(&snapshot.virtualGateways) { $0.check(virtualGateway: $1) }
    run(&snapshot.virtualHosts) { $0.check(virtualHost: $1, at: ["spec"]) }
    run(&snapshot.routeTables) { $0.check(routes: $1.routes, at: ["spec", "routes"]) }
    run(&snapshot.trafficPolicies) { $0.check(trafficPolicy: $1) }
    run(&snapshot.staticDestinations) { $0.check(staticDestination: $1) }
    run(&snapshot.services) { $0.check(service: $1) }
    run(&snapshot.virtualDestinations) { $0.check(virtualDestination: $1) }
    run(&snapshot.virtualMeshes) { $0.check(virtualMesh: $1) }
    run(&snapshot.rateLimitServerConfigs) { $0.check(rateLimitServerConfig: $1) }
    run(&snapshot.rateLimitClientConfigs) { $0.check(rateLimitClientConfig: $1) }
    run(&snapshot.authConfigs) { $0.check(authConfig: $1) }
    snapshot.regexes = regexes
  }

  mutating func error(_ path: FieldPath, _ message: String) {
    diagnostics.append(source.diagnostic(.error, path, message))
  }

  mutating func warning(_ path: FieldPath, _ message: String) {
    diagnostics.append(source.diagnostic(.warning, path, message))
  }

  mutating func requireOne(_ count: Int, of names: [String], at path: FieldPath) {
    guard count != 1 else { return }
    error(path, "give exactly one of \(names.joined(separator: ", "))")
  }

  mutating func compile(_ pattern: String, ignoringCase: Bool = false, at path: FieldPath) {
    do {
      _ = try regexes.regex(pattern, ignoringCase: ignoringCase)
    } catch {
      self.error(path, "\(error.reason) in regex '\(pattern)' (RE2 syntax: no backreferences or lookaround)")
    }
  }

  mutating func check(_ duration: ManifestDuration?, at path: FieldPath, minimum: Int64 = 0) {
    guard let duration else { return }
    guard let nanoseconds = duration.nanoseconds else {
      error(path, "invalid duration '\(duration.text)'; write it like 15s, 250ms or 1m30s")
      return
    }
    if nanoseconds < minimum {
      error(path, "must be at least \(ManifestDuration(nanoseconds: minimum).text)")
    }
  }

  mutating func check(percentage: Double?, at path: FieldPath) {
    guard let percentage, !(0...100).contains(percentage) else { return }
    error(path, "percentage must be between 0 and 100")
  }

  mutating func check(_ match: StringMatch, at path: FieldPath) {
    requireOne(match.kindCount, of: StringMatch.kindNames, at: path)
    if let regex = match.regex {
      compile(regex, at: path.appending("regex"))
      if match.ignoreCase == true {
        warning(path.appending("ignoreCase"), "ignoreCase has no effect on regex")
      }
    }
  }

  mutating func check(labels: [String: String]?, at path: FieldPath) {
    for key in (labels ?? [:]).keys.sorted() where key.isEmpty {
      error(path, "label keys must not be empty")
    }
  }

  mutating func check(selector: ObjectSelector?, at path: FieldPath) {
    guard let selector else { return }
    for (index, expression) in (selector.expressions ?? []).enumerated() {
      let needsValues: Set<LabelExpression.Operator> = [.in, .notIn, .equals, .doubleEquals, .notEquals]
      if needsValues.contains(expression.operator), expression.values?.isEmpty ?? true {
        error(
          path.appending("expressions").appending(index).appending("values"),
          "\(expression.operator.rawValue) needs values")
      }
    }
  }
}
