/// `options.transformations` (spec §1.9): for each direction, the first entry whose matchers match
/// rewrites the message. Inherited whole like every option.
public struct RouteTransformations: Codable, Hashable, Sendable {
  public var request: [RequestTransformation]?
  public var response: [ResponseTransformation]?

  public init(request: [RequestTransformation]? = nil, response: [ResponseTransformation]? = nil) {
    self.request = request
    self.response = response
  }

  /// Every entry of both directions: their matchers apart, what each does.
  public var entries: [(transformation: Transformation?, isRequest: Bool)] {
    (request ?? []).map { ($0.transformation, true) } + (response ?? []).map { ($0.transformation, false) }
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
  /// Envoy's transformation template (Gloo Edge's `TransformationTemplate`), as written.
  public var injaTemplateTransformation: OpaqueValue?

  public init(xsltTransformation: XSLTTransformation? = nil, injaTemplateTransformation: OpaqueValue? = nil) {
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
