import Foundation
import PorticoAPI
import PorticoXSLT

/// `transformations` resolved: matchers compiled, stylesheets compiled here so that one that does not
/// compile is an error naming the line of the stylesheet on the resource that set the option, and the
/// route is replaced (spec §11): a request is never sent on untransformed because its stylesheet is broken.
extension GatewayTranslator {
  mutating func resolveTransformations(_ options: EffectiveOptions) -> Result<
    TransformationConfig?, OptionProblems
  > {
    guard let transformations = options.values.transformations,
      let origin = options.origins["transformations"]
    else { return .success(nil) }
    var errors: [Diagnostic] = []
    func fail(_ path: FieldPath, _ message: String) {
      errors.append(optionError("transformations", origin, at: path, message))
    }
    var request: [TransformationConfig.RequestEntry] = []
    for (index, entry) in (transformations.request ?? []).enumerated() {
      let at: FieldPath = ["request", .index(index), "transformation"]
      guard let transform = Self.resolved(transform(entry.transformation), at: at, fail: fail) else {
        continue
      }
      request.append(
        .init(
          matchers: (entry.matchers ?? []).map { joiner.standalone($0) }, transformation: transform,
          applyBeforeAuth: entry.applyBeforeAuth ?? false))
    }
    var response: [TransformationConfig.ResponseEntry] = []
    for (index, entry) in (transformations.response ?? []).enumerated() {
      let at: FieldPath = ["response", .index(index), "transformation"]
      guard let transform = Self.resolved(transform(entry.transformation), at: at, fail: fail) else {
        continue
      }
      let matchers = (entry.matchers ?? []).map { matcher in
        TransformationConfig.ResponseCondition(
          headers: (matcher.headers ?? []).map { joiner.condition($0) },
          responseCodeDetails: matcher.responseCodeDetails)
      }
      response.append(.init(matchers: matchers, transformation: transform))
    }
    guard errors.isEmpty else { return .failure(OptionProblems(errors: errors)) }
    guard !request.isEmpty || !response.isEmpty else { return .success(nil) }
    return .success(TransformationConfig(setBy: origin.owner, request: request, response: response))
  }

  /// The transformation, compiled; nil when there is none to run (validation reported a missing or
  /// ambiguous one; an inja template is refused as not enforced before options are resolved).
  private mutating func transform(_ transformation: Transformation?) -> Result<
    TransformationConfig.Transform?, XSLTError
  > {
    guard let xslt = transformation?.xsltTransformation, let text = xslt.xslt else { return .success(nil) }
    let compiled = stylesheets[text] ?? Result { () throws(XSLTError) in try XSLTStylesheet(text) }
    stylesheets[text] = compiled
    return compiled.map { stylesheet in
      .xslt(
        .init(
          stylesheet: stylesheet, text: text, setContentType: xslt.setContentType,
          nonXmlTransform: xslt.nonXmlTransform ?? false))
    }
  }

  private static func resolved(
    _ result: Result<TransformationConfig.Transform?, XSLTError>, at path: FieldPath,
    fail: (FieldPath, String) -> Void
  ) -> TransformationConfig.Transform? {
    switch result {
    case .success(let transform): return transform
    case .failure(let error):
      fail(
        path.appending("xsltTransformation").appending("xslt"),
        "the stylesheet does not compile: \(error.report.replacingOccurrences(of: "\n", with: "; "))")
      return nil
    }
  }
}
