/// `options.transformations` (spec §1.9): for each direction, the first entry whose matchers match
/// rewrites the message. Inherited whole like every option.
public struct RouteTransformations: Codable, Hashable, Sendable {
  public var request: [RequestTransformation]?
  public var response: [ResponseTransformation]?

  public init(request: [RequestTransformation]? = nil, response: [ResponseTransformation]? = nil) {
    self.request = request
    self.response = response
  }

  /// What every entry of both directions does.
  public var transformations: [Transformation?] {
    (request ?? []).map(\.transformation) + (response ?? []).map(\.transformation)
  }
}

public struct RequestTransformation: Codable, Hashable, Sendable {
  /// Empty or absent: every request.
  public var matchers: [HTTPMatcher]?
  public var transformation: Transformation?
  /// Route the transformed request again (its path, headers and method may have changed).
  public var recalculateRoutingDestination: Bool?
  /// Run before external auth and rate limiting rather than after them.
  public var applyBeforeAuth: Bool?

  public init(
    matchers: [HTTPMatcher]? = nil, transformation: Transformation? = nil,
    recalculateRoutingDestination: Bool? = nil, applyBeforeAuth: Bool? = nil
  ) {
    self.matchers = matchers
    self.transformation = transformation
    self.recalculateRoutingDestination = recalculateRoutingDestination
    self.applyBeforeAuth = applyBeforeAuth
  }
}

public struct ResponseTransformation: Codable, Hashable, Sendable {
  /// Empty or absent: every response.
  public var matchers: [ResponseMatcher]?
  public var transformation: Transformation?

  public init(matchers: [ResponseMatcher]? = nil, transformation: Transformation? = nil) {
    self.matchers = matchers
    self.transformation = transformation
  }
}

/// Response conditions: every header matcher holds, and the response came about as `responseCodeDetails`
/// says (Envoy's wording; `via_upstream`, an upstream's answer, is the only one: the gateway's own answers
/// are not transformed).
public struct ResponseMatcher: Codable, Hashable, Sendable {
  public var headers: [HeaderMatcher]?
  public var responseCodeDetails: String?

  public init(headers: [HeaderMatcher]? = nil, responseCodeDetails: String? = nil) {
    self.headers = headers
    self.responseCodeDetails = responseCodeDetails
  }

  /// `via_upstream`: the upstream's response.
  public static let details = ["via_upstream"]
}

/// One of `xsltTransformation` or `injaTemplateTransformation`.
public struct Transformation: Codable, Hashable, Sendable {
  public var xsltTransformation: XSLTTransformation?
  /// Envoy's transformation template (Gloo Edge's `TransformationTemplate`).
  public var injaTemplateTransformation: InjaTemplateTransformation?

  public init(
    xsltTransformation: XSLTTransformation? = nil,
    injaTemplateTransformation: InjaTemplateTransformation? = nil
  ) {
    self.xsltTransformation = xsltTransformation
    self.injaTemplateTransformation = injaTemplateTransformation
  }
}

/// An XSLT 1.0 stylesheet over the body.
public struct XSLTTransformation: Codable, Hashable, Sendable {
  public var xslt: String?
  /// The body's new `Content-Type`.
  public var setContentType: String?
  /// The body is JSON: the stylesheet reads it as the XML `fn:json-to-xml` makes of it.
  public var nonXmlTransform: Bool?

  public init(xslt: String? = nil, setContentType: String? = nil, nonXmlTransform: Bool? = nil) {
    self.xslt = xslt
    self.setContentType = setContentType
    self.nonXmlTransform = nonXmlTransform
  }
}

/// Gloo Edge's `TransformationTemplate`: values extracted from the message, headers and a body rendered
/// from inja templates over them and the parsed JSON body.
public struct InjaTemplateTransformation: Codable, Hashable, Sendable {
  /// Variables read JSON pointers (`order/id`) rather than dotted paths (`order.id`).
  public var advancedTemplates: Bool?
  public var extractors: [String: Extraction]?
  /// Set (in place of what the message has); a header that renders empty is dropped.
  public var headers: [String: InjaTemplate]?
  public var headersToAppend: [HeaderToAppend]?
  public var headersToRemove: [String]?
  /// At most one of `body` (a template), `passthrough` (the body as it is) and `mergeExtractorsToBody`.
  public var body: InjaTemplate?
  public var passthrough: OpaqueValue?
  public var mergeExtractorsToBody: OpaqueValue?
  /// `ParseAsJson` (the default) or `DontParse`.
  public var parseBodyBehavior: String?
  public var ignoreErrorOnParse: Bool?

  public static let parseBehaviors = ["ParseAsJson", "DontParse"]

  public init() {}

  /// Text from a header (`:path` included) or the body, matched whole by an RE2 `regex`; `subgroup` picks
  /// the group kept (0: all of it).
  public struct Extraction: Codable, Hashable, Sendable {
    public var header: String?
    public var body: OpaqueValue?
    public var regex: String?
    public var subgroup: UInt32?

    public init(
      header: String? = nil, body: OpaqueValue? = nil, regex: String? = nil, subgroup: UInt32? = nil
    ) {
      self.header = header
      self.body = body
      self.regex = regex
      self.subgroup = subgroup
    }
  }

  public struct InjaTemplate: Codable, Hashable, Sendable {
    public var text: String?

    public init(text: String? = nil) { self.text = text }
  }

  public struct HeaderToAppend: Codable, Hashable, Sendable {
    public var key: String?
    public var value: InjaTemplate?

    public init(key: String? = nil, value: InjaTemplate? = nil) {
      self.key = key
      self.value = value
    }
  }
}
