import PorticoTemplates

extension Validator {
  /// The shape of `transformations`: each entry names one transformation, its matchers are valid, and an
  /// XSLT one has a stylesheet. Whether the stylesheet compiles is checked where it is compiled
  /// (translation).
  mutating func check(transformations: RouteTransformations, at path: FieldPath) {
    for (index, entry) in (transformations.request ?? []).enumerated() {
      let at = path.appending("request").appending(index)
      for (position, matcher) in (entry.matchers ?? []).enumerated() {
        check(matcher: matcher, at: at.appending("matchers").appending(position))
      }
      check(transformation: entry.transformation, at: at.appending("transformation"))
    }
    for (index, entry) in (transformations.response ?? []).enumerated() {
      let at = path.appending("response").appending(index)
      for (position, matcher) in (entry.matchers ?? []).enumerated() {
        let matcherPath = at.appending("matchers").appending(position)
        // `:status` names the response's status, as in Envoy's response matchers.
        let headers = (matcher.headers ?? []).map { header in
          var header = header
          if header.name == ":status" { header.name = "status" }
          return header
        }
        check(matcher: HTTPMatcher(headers: headers), at: matcherPath)
        if let details = matcher.responseCodeDetails, !ResponseMatcher.details.contains(details) {
          error(
            matcherPath.appending("responseCodeDetails"),
            "must be \(ResponseMatcher.details.joined(separator: " or ")): only upstream responses are "
              + "transformed, never the gateway's own answers")
        }
      }
      check(transformation: entry.transformation, at: at.appending("transformation"))
    }
  }

  private mutating func check(transformation: Transformation?, at path: FieldPath) {
    guard let transformation else { return error(path, "is required") }
    switch (transformation.xsltTransformation, transformation.injaTemplateTransformation) {
    case (nil, nil): error(path, "give one of xsltTransformation, injaTemplateTransformation")
    case (.some, .some): error(path, "give only one of xsltTransformation, injaTemplateTransformation")
    case (let xslt?, nil):
      if (xslt.xslt ?? "").allSatisfy(\.isWhitespace) {
        error(path.appending("xsltTransformation").appending("xslt"), "is required: the stylesheet")
      }
    case (nil, let template?): check(template: template, at: path.appending("injaTemplateTransformation"))
    }
  }

  /// A template transformation's fields, and every template parsed: a syntax error, an unknown function or
  /// a wrong number of arguments is reported here, with its place in the template.
  private mutating func check(template: InjaTemplateTransformation, at path: FieldPath) {
    func parse(_ text: String?, at path: FieldPath) {
      guard let text else { return error(path, "is required: the template") }
      do {
        _ = try Template(text)
      } catch {
        self.error(path, "the template does not parse: \(error)")
      }
    }
    for (name, extraction) in (template.extractors ?? [:]).sorted(by: { $0.key < $1.key }) {
      let at = path.appending("extractors").appending(name)
      if (extraction.header == nil) == (extraction.body == nil) { error(at, "give one of header, body") }
      if let pattern = extraction.regex {
        compile(pattern, at: at.appending("regex"))
        if let regex = try? RE2Regex(pattern), Int(extraction.subgroup ?? 0) > regex.groupCount {
          error(at.appending("subgroup"), "the regex has \(regex.groupCount) groups")
        }
      } else {
        error(at.appending("regex"), "is required")
      }
    }
    for (name, value) in (template.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
      parse(value.text, at: path.appending("headers").appending(name).appending("text"))
    }
    for (index, header) in (template.headersToAppend ?? []).enumerated() {
      let at = path.appending("headersToAppend").appending(index)
      if header.key == nil { error(at.appending("key"), "is required") }
      parse(header.value?.text, at: at.appending("value").appending("text"))
    }
    let bodies = [template.body != nil, template.passthrough != nil, template.mergeExtractorsToBody != nil]
    if bodies.filter({ $0 }).count > 1 {
      error(path, "give at most one of body, passthrough, mergeExtractorsToBody")
    }
    if let body = template.body { parse(body.text, at: path.appending("body").appending("text")) }
    if let behavior = template.parseBodyBehavior,
      !InjaTemplateTransformation.parseBehaviors.contains(behavior)
    {
      error(
        path.appending("parseBodyBehavior"),
        "must be one of \(InjaTemplateTransformation.parseBehaviors.joined(separator: ", "))")
    }
  }
}
