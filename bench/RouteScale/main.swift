// Route-scale benchmark: how translation, router compilation and matching scale from 10 routes to 10,000.
//
// Generates `hosts` virtual hosts, each delegating `/api` to a route table that delegates `/v1` to a leaf
// table of `routesPerHost` routes (three levels), loads them through the real manifest loader, translates,
// compiles the router, then times lookups that hit a route and lookups that miss.
import Foundation
import PorticoRouting

struct Scenario {
  let name: String
  let hosts: Int
  let routesPerHost: Int
}

func manifests(_ scenario: Scenario) -> String {
  var text = """
    apiVersion: portico.dev/v1
    kind: VirtualGateway
    metadata: {name: bench, namespace: bench}
    spec:
      ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {app: bench}}}]}]
      connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {labels: {bench: "yes"}}}]}}]
    ---
    apiVersion: portico.dev/v1
    kind: StaticDestination
    metadata: {name: upstream, namespace: bench}
    spec: {endpoints: [{address: 127.0.0.1, port: 9000}]}

    """
  for host in 0..<scenario.hosts {
    text += """
      ---
      apiVersion: portico.dev/v1
      kind: VirtualHost
      metadata: {name: h\(host), namespace: bench, labels: {bench: "yes"}}
      spec:
        domains: [h\(host).example.com]
        routes:
        - {name: api, matchers: [{uri: {prefix: /api}}], delegateAction: {refs: [{name: h\(host)-mid}]}}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: h\(host)-mid, namespace: bench}
      spec:
        routes:
        - {name: v1, matchers: [{uri: {prefix: /v1}}], delegateAction: {refs: [{name: h\(host)-leaf}]}}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: h\(host)-leaf, namespace: bench}
      spec:
        routes:

      """
    for route in 0..<scenario.routesPerHost {
      let kind = route.isMultiple(of: 2) ? "exact" : "prefix"
      text += """
          - name: r\(route)
            matchers: [{uri: {\(kind): /svc\(route)}}]
            routeAction: {destinations: [{staticDestination: {name: upstream, namespace: bench}}]}

        """
    }
  }
  return text
}

func residentBytes() -> Int {
  guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
    let pages = Int(statm.split(separator: " ")[1])
  else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func milliseconds(_ body: () -> Void) -> Double {
  let start = ContinuousClock.now
  body()
  let elapsed = ContinuousClock.now - start
  return Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3
}

/// Nanoseconds per lookup over `requests`, best of five passes.
func nanosecondsPerMatch(_ router: CompiledRouter, _ requests: [PlainRequest], expectHit: Bool) -> Double {
  var best = Double.infinity
  for _ in 0..<5 {
    var hits = 0
    let elapsed = milliseconds {
      for request in requests {
        if case .matched = router.route(request) { hits += 1 }
      }
    }
    precondition((hits == requests.count) == expectHit, "unexpected match result")
    best = min(best, elapsed * 1e6 / Double(requests.count))
  }
  return best
}

let scenarios = [
  Scenario(name: "10 routes", hosts: 1, routesPerHost: 10),
  Scenario(name: "10,000 routes", hosts: 1_000, routesPerHost: 10),
  Scenario(name: "10,000 routes, one host", hosts: 1, routesPerHost: 10_000),
]
let gateway = GatewayIdentity(name: "bench", namespace: "bench", labels: ["app": "bench"])
var lines = [
  "| scenario | load ms | translate ms | compile ms | translate+compile ms | memory MiB | hit ns/match | miss ns/match |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
]
for scenario in scenarios {
  let text = manifests(scenario)
  let before = residentBytes()
  var snapshot = ResourceSnapshot()
  let load = milliseconds { snapshot = ManifestLoader().load(text: text, file: "bench.yaml") }
  precondition(!snapshot.allDiagnostics.hasErrors, "\(snapshot.allDiagnostics.prefix(3))")
  var translation: Translation?
  let translate = milliseconds { translation = Translator().translate(snapshot, for: gateway) }
  let chain = translation!.config.listeners[0].serverNameChains[0]
  var router: CompiledRouter?
  let compile = milliseconds { router = CompiledRouter(chain) }
  let memory = Double(residentBytes() - before) / 1_048_576
  let routeCount = chain.virtualHosts.reduce(0) { $0 + $1.routes.count }
  precondition(routeCount == scenario.hosts * scenario.routesPerHost)

  var generator = SystemRandomNumberGenerator()
  var hits: [PlainRequest] = []
  var misses: [PlainRequest] = []
  for _ in 0..<100_000 {
    let host = Int.random(in: 0..<scenario.hosts, using: &generator)
    let route = Int.random(in: 0..<scenario.routesPerHost, using: &generator)
    let path = "/api/v1/svc\(route)" + (route.isMultiple(of: 2) ? "" : "/items/42")
    hits.append(PlainRequest(method: "GET", authority: "h\(host).example.com", pathAndQuery: path))
    misses.append(
      PlainRequest(method: "GET", authority: "h\(host).example.com", pathAndQuery: "/api/v1/none/\(route)"))
  }
  let hit = nanosecondsPerMatch(router!, hits, expectHit: true)
  let miss = nanosecondsPerMatch(router!, misses, expectHit: false)
  lines.append(
    String(
      format: "| %@ | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f |", scenario.name, load, translate,
      compile,
      translate + compile, memory, hit, miss))
}
print(lines.joined(separator: "\n"))
