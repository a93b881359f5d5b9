import XCTest

@testable import PorticoTranslate

/// A gateway named `edge` in namespace `gateways`, cluster `east`, labelled `app: edge`, with an `http` port.
let testGateway = GatewayIdentity(
  name: "edge", namespace: "gateways", cluster: "east", labels: ["app": "edge"], ports: ["http": 8080])

/// A VirtualGateway that serves every VirtualHost labelled `expose: "yes"` in any namespace on `testGateway`.
let testVirtualGateway = """
  apiVersion: portico.dev/v1
  kind: VirtualGateway
  metadata: {name: edge, namespace: gateways}
  spec:
    ingressGatewaySelectors:
    - portName: http
      destinationSelectors:
      - kubeServiceMatcher: {labels: {app: edge}, namespaces: [gateways]}
    connectionHandlers:
    - http:
        routeConfig:
        - virtualHostSelector: {namespaces: ["*"], labels: {expose: "yes"}}
  ---
  apiVersion: portico.dev/v1
  kind: StaticDestination
  metadata: {name: backend, namespace: apps}
  spec:
    endpoints: [{address: 127.0.0.1, port: 9000}]

  """

func snapshot(_ yaml: String, file: String = "test.yaml") -> ResourceSnapshot {
  ManifestLoader().load(text: testVirtualGateway + "---\n" + yaml, file: file)
}

func translate(_ yaml: String, for gateway: GatewayIdentity = testGateway) -> Translation {
  Translator().translate(snapshot(yaml), for: gateway)
}

extension Translation {
  /// The routes of the host serving `domain`, or an empty list.
  func routes(of domain: String) -> [RouteConfig] {
    config.virtualHosts.first { $0.domains.contains(domain) }?.routes ?? []
  }

  func status(_ kind: ResourceKind, _ namespace: String, _ name: String) -> ResourceStatus? {
    status(of: ResourceID(kind, namespace: namespace, name: name))
  }
}

extension RouteConfig {
  var summaries: [String] { matchers.map(\.summary) }

  var directStatus: Int? {
    if case .directResponse(let status, _) = action { return status }
    return nil
  }

  var upstreams: [String] {
    if case .forward(let forward) = action { return forward.destinations.map(\.upstream) }
    return []
  }
}

/// A VirtualHost `name` in namespace `apps`, exposed on the test gateway, serving `domain`.
func host(_ name: String, domain: String, options: String = "", routes: String) -> String {
  """
  apiVersion: portico.dev/v1
  kind: VirtualHost
  metadata: {name: \(name), namespace: apps, labels: {expose: "yes"}}
  spec:
    domains: [\(domain)]
  \(options)
    routes:
  \(routes)
  """
}

/// A RouteTable in namespace `apps`.
func table(_ name: String, weight: Int = 0, labels: String = "{}", routes: String) -> String {
  """
  apiVersion: portico.dev/v1
  kind: RouteTable
  metadata: {name: \(name), namespace: apps, labels: \(labels)}
  spec:
    weight: \(weight)
    routes:
  \(routes)
  """
}

/// A route forwarding to the shared static backend.
func forward(_ name: String, _ matcher: String) -> String {
  """
    - name: \(name)
      matchers: [\(matcher)]
      routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
  """
}

func delegate(_ name: String, _ matcher: String, _ target: String) -> String {
  """
    - name: \(name)
      matchers: [\(matcher)]
      delegateAction: \(target)
  """
}

/// The 1-based line of `needle` in the manifests `translate` loads for `yaml`.
func line(containing needle: String, in yaml: String) -> Int? {
  let lines = (testVirtualGateway + "---\n" + yaml).components(separatedBy: "\n")
  return lines.firstIndex { $0.contains(needle) }.map { $0 + 1 }
}
