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
    case (nil, .some): break
    }
  }
}
