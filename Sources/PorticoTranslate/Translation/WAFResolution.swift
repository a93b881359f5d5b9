import Foundation
import PorticoAPI
import PorticoWAF

/// `options.waf` resolved into the rules a route runs: Portico's engine settings, then the Core Rule Set
/// (its settings in place of `crs-setup.conf`, then its rule files), then the rule sets in order. The rules
/// are compiled here, so that one that does not compile is an error naming its file and line on the
/// resource that set the option, and the route is replaced (spec §11): a request is never let through
/// uninspected because its rules are broken.
extension GatewayTranslator {
  /// Where Debian's `modsecurity-crs` puts the Core Rule Set.
  static let coreRuleSetDirectory = "/usr/share/modsecurity-crs/rules"
  static let coreRuleSetSetup = "/etc/modsecurity/crs/crs-setup.conf"

  mutating func resolveWAF(_ options: EffectiveOptions) -> Result<WAFConfig?, OptionProblems> {
    guard let waf = options.values.waf, waf.disabled != true, let origin = options.origins["waf"] else {
      return .success(nil)
    }
    var errors: [Diagnostic] = []
    func fail(_ path: FieldPath, _ message: String) {
      errors.append(optionError("waf", origin, at: path, message))
    }
    let place = origin.location.map { "\($0.file):\($0.line)" } ?? "\(origin.resource)"
    let folder = origin.location.map { URL(fileURLWithPath: $0.file).deletingLastPathComponent().path }
    func resolved(_ path: String) -> String {
      guard !path.hasPrefix("/"), let folder else { return path }
      return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: folder, isDirectory: true)).path
    }
    let inspectsRequestBody = waf.requestHeadersOnly != true
    let inspectsResponseBody = waf.responseHeadersOnly != true
    // Each source with the field that brought it in, so that a compile error goes on that field.
    var pieces: [(source: WAFRuleSource, field: FieldPath)] = [
      (
        .text(
          Self.engineSettings(requestBody: inspectsRequestBody, responseBody: inspectsResponseBody),
          origin: "Portico's engine settings"), []
      )
    ]
    if let crs = waf.coreRuleSet {
      if let settings = crs.customSettingsString {
        pieces.append(
          (
            .text(settings, origin: "\(place) waf.coreRuleSet.customSettingsString"),
            ["coreRuleSet", "customSettingsString"]
          ))
      } else {
        pieces.append(
          (
            .file(resolved(crs.customSettingsFile ?? Self.coreRuleSetSetup)),
            ["coreRuleSet", "customSettingsFile"]
          ))
      }
      switch Self.ruleFiles(in: Self.coreRuleSetDirectory) {
      case .success(let files): pieces += files.map { (.file($0), ["coreRuleSet"]) }
      case .failure(let reason): fail(["coreRuleSet"], "the Core Rule Set is not installed (\(reason))")
      }
    }
    for (index, set) in (waf.ruleSets ?? []).enumerated() {
      let at: FieldPath = ["ruleSets", .index(index)]
      if let text = set.ruleStr {
        pieces.append(
          (.text(text, origin: "\(place) waf.ruleSets[\(index)].ruleStr"), at.appending("ruleStr")))
      }
      for (position, file) in (set.files ?? []).enumerated() {
        pieces.append((.file(resolved(file)), at.appending("files").appending(position)))
      }
      if let directory = set.directory {
        switch Self.ruleFiles(in: resolved(directory)) {
        case .success(let files): pieces += files.map { (.file($0), at.appending("directory")) }
        case .failure(let reason): fail(at.appending("directory"), reason.description)
        }
      }
    }
    for piece in pieces {
      if case .file(let path) = piece.source.content, !FileManager.default.isReadableFile(atPath: path) {
        fail(piece.field, "cannot read the rule file \(path)")
      }
    }
    let sources = pieces.map(\.source)
    if errors.isEmpty {
      do {
        _ = try WAFRules.compile(sources)
      } catch {
        // The piece the error names: a rule file, or inline rules by their origin (none: a file one of
        // them includes).
        let piece = pieces.first { piece in
          switch piece.source.content {
          case .file(let path): path == error.file
          case .text(_, let origin): origin == error.file
          }
        }
        let inline = piece.map { if case .text = $0.source.content { true } else { false } } ?? false
        let place =
          inline
          ? error.line.map { "line \($0) of these rules" } ?? "these rules"
          : error.line.map { "\(error.file):\($0)" } ?? error.file
        fail(piece?.field ?? [], "rules do not compile: \(place): \(error.reason)")
      }
    }
    guard errors.isEmpty else { return .failure(OptionProblems(errors: errors)) }
    return .success(
      WAFConfig(
        setBy: origin.owner,
        sources: sources, interventionMessage: waf.customInterventionMessage,
        inspectsRequestBody: inspectsRequestBody, inspectsResponseBody: inspectsResponseBody,
        auditAction: waf.auditLogging?.action ?? "NEVER", coreRuleSet: waf.coreRuleSet != nil))
  }

  /// What a gateway sets before any user rule, as ModSecurity's recommended configuration does (its own
  /// defaults leave bodies unread): JSON and XML bodies parsed into arguments, a body that does not parse
  /// refused (400, rule 200002). The user's settings may change any of it, as they come later.
  static func engineSettings(requestBody: Bool, responseBody: Bool) -> String {
    #"""
    SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
      "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
    SecRule REQUEST_HEADERS:Content-Type "^application/json" \
      "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
    SecRule REQBODY_ERROR "!@eq 0" \
      "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
    """# + "\n" + """
      SecRuleEngine On
      SecRequestBodyAccess \(requestBody ? "On" : "Off")
      SecRequestBodyLimitAction Reject
      SecResponseBodyAccess \(responseBody ? "On" : "Off")
      SecResponseBodyMimeType text/plain text/html text/xml application/json
      SecResponseBodyLimitAction ProcessPartial
      SecArgumentSeparator &
      SecCookieFormat 0
      """
  }

  /// A directory's `.conf` files, in name order (the order the Core Rule Set's numbering expects).
  static func ruleFiles(in directory: String) -> Result<[String], WAFDirectoryError> {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return .failure(WAFDirectoryError(description: "cannot read the directory \(directory)"))
    }
    let files = names.filter { $0.hasSuffix(".conf") }.sorted().map { directory + "/" + $0 }
    guard !files.isEmpty else {
      return .failure(WAFDirectoryError(description: "no .conf files in \(directory)"))
    }
    return .success(files)
  }

}

struct WAFDirectoryError: Error, CustomStringConvertible {
  let description: String
}
