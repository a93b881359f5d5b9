import PorticoXSLT

/// The state of one translation: lookups, findings, and what has been built so far.
struct GatewayTranslator {
  let index: ResourceIndex
  let gateway: GatewayIdentity
  let policies: TrafficPolicySet
  var joiner: MatcherJoiner
  var resolver: DestinationResolver
  var status = StatusBook()
  /// Each AuthConfig's steps, resolved once per translation however many routes use it (its Secrets are
  /// read, and its warnings reported, once).
  var authSteps: [ResourceID: [ExtAuthConfig.Step]] = [:]
  /// AuthConfigs whose steps did not resolve (a policy that does not compile, say): their routes are
  /// replaced, as for an AuthConfig with errors.
  var unresolvedAuthConfigs: Set<ResourceID> = []
  /// Stylesheets compiled in this translation, by text: each once, shared by every route that uses it.
  var stylesheets: [String: Result<XSLTStylesheet, XSLTError>] = [:]
  let limits: Translator.Limits
  /// Routes one translation may still expand.
  var routeBudget: Int

  init(snapshot: ResourceSnapshot, gateway: GatewayIdentity, limits: Translator.Limits) {
    self.limits = limits
    routeBudget = limits.maximumRoutes
    index = ResourceIndex(snapshot)
    self.gateway = gateway
    policies = TrafficPolicySet(snapshot.trafficPolicies)
    joiner = MatcherJoiner(regexes: snapshot.regexes)
    resolver = DestinationResolver(index: index, gateway: gateway)
    seedStatuses(snapshot)
  }

  /// Every resource gets a status carrying what loading found.
  private mutating func seedStatuses(_ snapshot: ResourceSnapshot) {
    func seed<Spec>(_ resources: [Resource<Spec>]) {
      for resource in resources {
        status.touch(resource.id, at: resource.source.location(of: ["metadata", "name"]))
        status.add(resource.diagnostics, to: resource.id)
      }
    }
    seed(snapshot.virtualGateways)
    seed(snapshot.virtualHosts)
    seed(snapshot.routeTables)
    seed(snapshot.trafficPolicies)
    seed(snapshot.staticDestinations)
    seed(snapshot.virtualDestinations)
    seed(snapshot.virtualMeshes)
    seed(snapshot.rateLimitServerConfigs)
    seed(snapshot.rateLimitClientConfigs)
    seed(snapshot.authConfigs)
    seed(snapshot.services)
    seed(snapshot.endpoints)
    seed(snapshot.secrets)
    seed(snapshot.configMaps)
    for broken in snapshot.broken {
      status.touch(broken.id, at: broken.source.location(of: ["metadata", "name"]))
      status.add(broken.diagnostics, to: broken.id)
    }
  }

  mutating func report(
    _ severity: Diagnostic.Severity, on owner: ResourceID, _ source: SourceDocument, _ path: FieldPath,
    _ message: String
  ) {
    status.add(source.diagnostic(severity, path, message), to: owner)
  }
}
