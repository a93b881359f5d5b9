/// A virtual host to build: a VirtualHost resource, or one written inline in a VirtualGateway.
struct HostSource {
  /// The resource whose status receives this host's findings.
  let owner: ResourceID
  let name: String
  let namespace: String
  let spec: VirtualHostSpec
  let source: SourceDocument
  /// Where the VirtualHostSpec sits in its document.
  let specPath: FieldPath
  let diagnostics: [Diagnostic]
  let resource: Resource<VirtualHostSpec>?

  init(_ resource: Resource<VirtualHostSpec>) {
    owner = resource.id
    name = resource.id.qualifiedName
    namespace = resource.namespace
    spec = resource.spec
    source = resource.source
    specPath = ["spec"]
    diagnostics = resource.diagnostics
    self.resource = resource
  }

  init(inline spec: VirtualHostSpec, in gateway: Resource<VirtualGatewaySpec>, at path: FieldPath) {
    owner = gateway.id
    name = "\(gateway.id.qualifiedName)[\(path)]"
    namespace = gateway.namespace
    self.spec = spec
    source = gateway.source
    specPath = path
    diagnostics = gateway.diagnostics.filter { $0.path.hasPrefix(path) }
    resource = nil
  }

  /// Errors that make the whole host unusable (outside its routes).
  var hostErrors: [Diagnostic] {
    let routes = specPath.appending("routes")
    return diagnostics.filter { $0.isError && $0.path.hasPrefix(specPath) && !$0.path.hasPrefix(routes) }
  }
}

/// Whose routes are being expanded: a host, or a route table.
struct RouteOwner {
  let id: ResourceID
  let source: SourceDocument
  let namespace: String
  let routesPath: FieldPath
  let diagnostics: [Diagnostic]
  let table: Resource<RouteTableSpec>?
}

/// What a route inherits from the routes that delegate to it.
struct DelegationScope {
  /// Nil for a host's own routes.
  var parentMatchers: [RouteMatcher]?
  var layers: [OptionLayer] = []
  var labels: [String: String] = [:]
  var chain: [ChainLink] = []
  var tables: [Resource<RouteTableSpec>] = []
  var names: [String] = []
  var passFullPath = false
  /// Set by the nearest ancestor delegateAction that chose a sort method explicitly.
  var forcedSort: DelegateAction.SortMethod?

  /// The matchers a replacement route covers when the route's own matcher cannot be used.
  var replacementScope: [RouteMatcher] {
    parentMatchers ?? [RouteMatcher(path: PathMatcher(pieces: [], tail: .anything))]
  }
}

/// Per-host state of the expansion.
struct HostState {
  let source: HostSource
  let invalidRoutePolicy: InvalidRoutePolicy?
  let gatewayOptions: OptionLayer?
  var rejected = false
}

/// A built route with what overlap detection needs to place its warnings.
struct BuiltRoute {
  var config: RouteConfig
  let owner: ResourceID
  let source: SourceDocument
  let path: FieldPath
}
