/// A route: matchers, options and exactly one action.
public struct Route: Codable, Hashable, Sendable, RecoverableDecodable {
  public var name: String?
  public var matchers: [HTTPMatcher]?
  public var routeAction: RouteAction?
  public var redirectAction: RedirectAction?
  public var directResponseAction: DirectResponseAction?
  public var delegateAction: DelegateAction?
  public var options: Policy?
  public var labels: [String: String]?
  /// Set on the placeholder kept in place of a route that failed to decode.
  public var failedToDecode = false

  private enum CodingKeys: String, CodingKey {
    case name, matchers, routeAction, redirectAction, directResponseAction, delegateAction, options, labels
  }

  public init(
    name: String? = nil, matchers: [HTTPMatcher]? = nil, routeAction: RouteAction? = nil,
    redirectAction: RedirectAction? = nil, directResponseAction: DirectResponseAction? = nil,
    delegateAction: DelegateAction? = nil, options: Policy? = nil, labels: [String: String]? = nil
  ) {
    self.name = name
    self.matchers = matchers
    self.routeAction = routeAction
    self.redirectAction = redirectAction
    self.directResponseAction = directResponseAction
    self.delegateAction = delegateAction
    self.options = options
    self.labels = labels
  }

  public static func placeholder(for failure: Diagnostic) -> Route {
    var route = Route()
    route.failedToDecode = true
    return route
  }

  public static let actionNames = ["routeAction", "redirectAction", "directResponseAction", "delegateAction"]

  public var actionCount: Int {
    [routeAction != nil, redirectAction != nil, directResponseAction != nil, delegateAction != nil]
      .filter { $0 }.count
  }
}

/// Forward to weighted destinations.
public struct RouteAction: Codable, Hashable, Sendable {
  public var destinations: [WeightedDestination]?
  /// Replaces the matched prefix (segment-aware) or, for an exact matcher, the whole path.
  public var pathRewrite: String?

  public init(destinations: [WeightedDestination]? = nil, pathRewrite: String? = nil) {
    self.destinations = destinations
    self.pathRewrite = pathRewrite
  }
}

/// One of `kubeService`, `virtualDestination`, `staticDestination`, with a relative weight.
public struct WeightedDestination: Codable, Hashable, Sendable {
  public var kubeService: KubeServiceDestination?
  public var virtualDestination: VirtualDestinationRef?
  public var staticDestination: ObjectRef?
  public var clusterHeader: NotImplemented?
  public var weight: UInt32?
  public var options: DestinationOptions?

  public init(
    kubeService: KubeServiceDestination? = nil, virtualDestination: VirtualDestinationRef? = nil,
    staticDestination: ObjectRef? = nil, weight: UInt32? = nil, options: DestinationOptions? = nil
  ) {
    self.kubeService = kubeService
    self.virtualDestination = virtualDestination
    self.staticDestination = staticDestination
    self.weight = weight
    self.options = options
  }

  public static let kindNames = ["kubeService", "virtualDestination", "staticDestination"]

  public var kindCount: Int {
    [kubeService != nil, virtualDestination != nil, staticDestination != nil].filter { $0 }.count
  }
}

public struct KubeServiceDestination: Codable, Hashable, Sendable {
  public var name: String
  public var namespace: String?
  public var clusterName: String?
  public var subset: [String: String]?
  /// Required when the Service has more than one port.
  public var port: UInt32?

  public init(
    name: String, namespace: String? = nil, clusterName: String? = nil, subset: [String: String]? = nil,
    port: UInt32? = nil
  ) {
    self.name = name
    self.namespace = namespace
    self.clusterName = clusterName
    self.subset = subset
    self.port = port
  }
}

public struct VirtualDestinationRef: Codable, Hashable, Sendable {
  public var name: String
  public var namespace: String?
  public var subset: [String: String]?
}

public struct DestinationOptions: Codable, Hashable, Sendable {
  public var headerManipulation: HeaderManipulation?

  public init(headerManipulation: HeaderManipulation? = nil) {
    self.headerManipulation = headerManipulation
  }
}

public struct RedirectAction: Codable, Hashable, Sendable {
  public enum ResponseCode: String, ManifestEnum {
    case movedPermanently = "MOVED_PERMANENTLY"
    case found = "FOUND"
    case seeOther = "SEE_OTHER"
    case temporaryRedirect = "TEMPORARY_REDIRECT"
    case permanentRedirect = "PERMANENT_REDIRECT"

    public var status: Int {
      switch self {
      case .movedPermanently: 301
      case .found: 302
      case .seeOther: 303
      case .temporaryRedirect: 307
      case .permanentRedirect: 308
      }
    }
  }

  public var hostRedirect: String?
  public var pathRedirect: String?
  public var prefixRewrite: String?
  public var responseCode: ResponseCode?
  public var httpsRedirect: Bool?
  public var stripQuery: Bool?
  /// Portico extension: replace the port.
  public var portRedirect: UInt32?

  public init(
    hostRedirect: String? = nil, pathRedirect: String? = nil, prefixRewrite: String? = nil,
    responseCode: ResponseCode? = nil, httpsRedirect: Bool? = nil, stripQuery: Bool? = nil,
    portRedirect: UInt32? = nil
  ) {
    self.hostRedirect = hostRedirect
    self.pathRedirect = pathRedirect
    self.prefixRewrite = prefixRewrite
    self.responseCode = responseCode
    self.httpsRedirect = httpsRedirect
    self.stripQuery = stripQuery
    self.portRedirect = portRedirect
  }
}

public struct DirectResponseAction: Codable, Hashable, Sendable {
  public var status: UInt32
  public var body: String?

  public init(status: UInt32, body: String? = nil) {
    self.status = status
    self.body = body
  }
}

/// Hands a path range to route tables chosen by `refs` and `selector`.
public struct DelegateAction: Codable, Hashable, Sendable {
  public enum SortMethod: String, ManifestEnum {
    case tableWeight = "TABLE_WEIGHT"
    case routeSpecificity = "ROUTE_SPECIFICITY"
  }

  public var refs: [ObjectRef]?
  public var selector: ObjectSelector?
  public var sortMethod: SortMethod?
  /// Portico extension: child paths are absolute and must start with the parent prefix.
  public var passFullPath: Bool?

  public init(
    refs: [ObjectRef]? = nil, selector: ObjectSelector? = nil, sortMethod: SortMethod? = nil,
    passFullPath: Bool? = nil
  ) {
    self.refs = refs
    self.selector = selector
    self.sortMethod = sortMethod
    self.passFullPath = passFullPath
  }
}
