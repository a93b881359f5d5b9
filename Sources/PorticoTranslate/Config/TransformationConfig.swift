import PorticoXSLT

/// A route's `transformations`, resolved: for each direction, entries tried in order, the first whose
/// matchers match rewriting the message. Stylesheets are compiled (once per distinct text in a
/// configuration, shared by every route that uses it).
public struct TransformationConfig: Sendable, Encodable, Hashable {
  /// Who set the option (`VirtualHost ns/name`, a route of it...): what `explain` and the metrics name.
  public var setBy: String
  public var request: [RequestEntry]
  public var response: [ResponseEntry]

  public init(setBy: String, request: [RequestEntry], response: [ResponseEntry]) {
    self.setBy = setBy
    self.request = request
    self.response = response
  }

  public struct RequestEntry: Sendable, Encodable, Hashable {
    /// Empty: every request.
    public var matchers: [RouteMatcher]
    public var transformation: Transform
    public var applyBeforeAuth: Bool

    public init(matchers: [RouteMatcher], transformation: Transform, applyBeforeAuth: Bool) {
      self.matchers = matchers
      self.transformation = transformation
      self.applyBeforeAuth = applyBeforeAuth
    }
  }

  public struct ResponseEntry: Sendable, Encodable, Hashable {
    /// Any one holding is enough; empty: every response.
    public var matchers: [ResponseCondition]
    public var transformation: Transform

    public init(matchers: [ResponseCondition], transformation: Transform) {
      self.matchers = matchers
      self.transformation = transformation
    }
  }

  /// Every header condition holds, and the response came about as `responseCodeDetails` says.
  public struct ResponseCondition: Sendable, Encodable, Hashable {
    public var headers: [HeaderCondition]
    /// `via_upstream` for an upstream's answer; otherwise the gateway's own reason (its response flag).
    public var responseCodeDetails: String?

    public init(headers: [HeaderCondition], responseCodeDetails: String?) {
      self.headers = headers
      self.responseCodeDetails = responseCodeDetails
    }
  }

  public enum Transform: Sendable, Encodable, Hashable {
    case xslt(XSLT)

    public func encode(to encoder: any Encoder) throws {
      switch self {
      case .xslt(let xslt): try xslt.encode(to: encoder)
      }
    }
  }

  /// An XSLT stylesheet over the body: the compiled stylesheet, and what it was made from.
  public struct XSLT: Sendable, Encodable, Hashable {
    public var stylesheet: XSLTStylesheet
    /// The stylesheet's text: what two configurations compare by.
    public var text: String
    public var setContentType: String?
    /// The body is JSON, read as `fn:json-to-xml`'s XML.
    public var nonXmlTransform: Bool

    public init(stylesheet: XSLTStylesheet, text: String, setContentType: String?, nonXmlTransform: Bool) {
      self.stylesheet = stylesheet
      self.text = text
      self.setContentType = setContentType
      self.nonXmlTransform = nonXmlTransform
    }

    public static func == (lhs: XSLT, rhs: XSLT) -> Bool {
      lhs.text == rhs.text && lhs.setContentType == rhs.setContentType
        && lhs.nonXmlTransform == rhs.nonXmlTransform
    }

    public func hash(into hasher: inout Hasher) {
      hasher.combine(text)
      hasher.combine(setContentType)
      hasher.combine(nonXmlTransform)
    }

    enum CodingKeys: String, CodingKey { case kind, lines, setContentType, nonXmlTransform }

    /// What `explain` shows: the kind and the stylesheet's size, not its text.
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode("xslt", forKey: .kind)
      try container.encode(
        text.split(separator: "\n", omittingEmptySubsequences: false).count, forKey: .lines)
      try container.encodeIfPresent(setContentType, forKey: .setContentType)
      try container.encode(nonXmlTransform, forKey: .nonXmlTransform)
    }
  }

  /// Some request entry runs before auth and rate limiting.
  public var hasEarlyRequests: Bool { request.contains(where: \.applyBeforeAuth) }
  /// Some request entry runs after them.
  public var hasLateRequests: Bool { request.contains { !$0.applyBeforeAuth } }
}
