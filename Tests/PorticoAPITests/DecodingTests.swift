import PorticoAPI
import XCTest

/// The positioned decoder: unknown fields, type errors, multi-document and JSON input, route isolation and
/// broken resources.
final class DecodingTests: XCTestCase {
  // MARK: Unknown fields

  func testUnknownFieldIsAnErrorWithExactPositionAndPath() {
    let text = """
      apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
      kind: RouteTable
      metadata:
        name: orders
        namespace: orders-team
      spec:
        routes:
        - name: list
          matchers:
          - uri: {prefix: /list}
          directResponseAction: {status: 200}
        - name: create
          matchers:
          - uri:
              prfix: /create
          directResponseAction: {status: 201}
      """
    let snapshot = load(text, file: "teams/orders.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "teams/orders.yaml:14:7: spec.routes[1].matchers[0].uri: give exactly one of exact, prefix, regex, suffix",
        "teams/orders.yaml:15:9: spec.routes[1].matchers[0].uri.prfix: unknown field 'prfix' "
          + "(known fields: exact, ignoreCase, prefix, regex, suffix)",
      ])
    let unknown = snapshot.errors.last
    XCTAssertEqual(unknown?.location, SourceLocation(file: "teams/orders.yaml", line: 15, column: 9))
    XCTAssertEqual(unknown?.path, ["spec", "routes", 1, "matchers", 0, "uri", "prfix"])
    XCTAssertEqual(unknown?.severity, .error)
    // An unknown field does not stop the resource from loading.
    XCTAssertEqual(snapshot.routeTables.count, 1)
    XCTAssertEqual(snapshot.routeTables.first?.spec.routes?.count, 2)
    XCTAssertEqual(snapshot.routeTables.first?.hasErrors, true)
  }

  /// The message form of the issue: `teams/orders.yaml:14:9: spec.routes[1].matchers[0].uri: give exactly one
  /// of exact, prefix, regex, suffix`.
  func testIssueExampleMessage() {
    let text = """
      apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
      kind: RouteTable
      metadata:
        name: orders
        namespace: orders-team
      spec:
        routes:
          - name: list
            matchers:
            - uri: {prefix: /list}
            directResponseAction: {status: 200}
          - name: create
            matchers:
            - uri: {exact: /create, prefix: /create}
            directResponseAction: {status: 201}
      """
    let snapshot = load(text, file: "teams/orders.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "teams/orders.yaml:14:9: spec.routes[1].matchers[0].uri: give exactly one of exact, prefix, regex, suffix"
      ])
  }

  func testUnknownFieldsAtSeveralLevels() {
    let text = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata:
        name: orders
        lables: {a: b}
      spec:
        wieght: 3
        routes: []
      colour: blue
      """
    let snapshot = load(text, file: "rt.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "rt.yaml:5:3: metadata.lables: unknown field 'lables' (known fields: annotations, clusterName, "
          + "creationTimestamp, deletionGracePeriodSeconds, deletionTimestamp, finalizers, generation, labels, "
          + "managedFields, name, namespace, ownerReferences, resourceVersion, selfLink, uid)",
        "rt.yaml:7:3: spec.wieght: unknown field 'wieght' (known fields: routes, weight)",
        "rt.yaml:9:1: colour: unknown field 'colour' (known fields: apiVersion, kind, metadata, spec, status)",
      ])
    XCTAssertEqual(snapshot.routeTables.count, 1)
  }

  func testUnknownFieldInAnEmptyObjectListsNoKnownFields() {
    let text = virtualHostYAML(
      spec: """
        domains: [example.com]
        options:
          invalidRoutePolicy:
            drop: {now: true}
        routes:
        - directResponseAction: {status: 200}
        """)
    let snapshot = load(text, file: "vh.yaml")
    let error = expectDiagnostic(snapshot.errors, at: "spec.options.invalidRoutePolicy.drop.now")
    XCTAssertEqual(error?.message, "unknown field 'now'")
    assertLocation(error, "vh.yaml", 8, 14)
    XCTAssertEqual(snapshot.errors.count, 1, describe(snapshot.errors))
  }

  func testStatusIsAcceptedAndIgnored() {
    let snapshot = load(
      routeTableYAML(
        routes: """
          - directResponseAction: {status: 200}
          """)
          + """
          status:
            state: ACCEPTED
            observedGeneration: 3
            errors: []
            anything: {nested: [1, 2, {deep: true}]}
          """)
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.routeTables.count, 1)
  }

  // MARK: Multi-document YAML and JSON

  func testMultiDocumentYAML() {
    let text = """
      # a leading comment
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: a, namespace: team}
      spec: {routes: []}
      ---
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: b, namespace: team}
      spec:
        weight: 1
        colour: blue
      ...
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: svc, namespace: team}
      spec: {ports: [{port: 80}]}
      """
    let snapshot = load(text, file: "multi.yaml")
    XCTAssertEqual(snapshot.routeTables.map(\.name), ["a", "b"])
    XCTAssertEqual(snapshot.services.map(\.name), ["svc"])
    // Lines count from the start of the file, not of the document.
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      ["multi.yaml:14:3: spec.colour: unknown field 'colour' (known fields: routes, weight)"])
    // Each resource remembers its own document.
    XCTAssertEqual(snapshot.routeTables.last?.source.file, "multi.yaml")
    XCTAssertEqual(snapshot.routeTables.last?.source.root.location.line, 9)
  }

  func testEmptyAndNullDocumentsAreSkipped() {
    for text in ["", "\n\n", "# only a comment\n", "---\n---\n", "--- null\n", "~\n", "---\n...\n"] {
      let snapshot = load(text)
      assertNoDiagnostics(snapshot)
      XCTAssertTrue(snapshot.routeTables.isEmpty && snapshot.broken.isEmpty, "for \(text.debugDescription)")
    }
  }

  func testJSONInput() {
    let text = """
      {
        "apiVersion": "portico.dev/v1",
        "kind": "RouteTable",
        "metadata": {"name": "json-table", "namespace": "team", "labels": {"a": "b"}},
        "spec": {
          "weight": 7,
          "routes": [
            {"name": "r1", "matchers": [{"uri": {"exact": "/x"}}], "directResponseAction": {"status": 204}}
          ],
          "colour": "blue"
        }
      }
      """
    let snapshot = load(text, file: "table.json")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      ["table.json:10:5: spec.colour: unknown field 'colour' (known fields: routes, weight)"])
    XCTAssertEqual(snapshot.routeTables.count, 1)
    let table = snapshot.routeTables.first
    XCTAssertEqual(table?.id, ResourceID(.routeTable, namespace: "team", name: "json-table"))
    XCTAssertEqual(table?.labels, ["a": "b"])
    XCTAssertEqual(table?.spec.weight, 7)
    XCTAssertEqual(table?.spec.routes?.first?.name, "r1")
    XCTAssertEqual(table?.spec.routes?.first?.matchers?.first?.uri?.exact, "/x")
    XCTAssertEqual(table?.spec.routes?.first?.directResponseAction?.status, 204)
  }

  func testJSONTypeErrorsArePositioned() {
    // A quoted number is a string in JSON and YAML alike.
    let text = """
      {"apiVersion": "portico.dev/v1", "kind": "RouteTable",
       "metadata": {"name": "t", "namespace": "team"},
       "spec": {"weight": "7"}}
      """
    let snapshot = load(text, file: "t.json")
    XCTAssertEqual(
      snapshot.errors.map(\.description), ["t.json:3:21: spec.weight: expected a 32-bit integer, found '7'"])
    XCTAssertEqual(snapshot.broken.count, 1)
  }

  // MARK: Scalars

  func testScalarConversions() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: StaticDestination
      metadata: {name: d, namespace: team}
      spec:
        endpoints:
        - {address: 10.0.0.1, port: +8080}
        - {address: "10.0.0.2", port: 65535}
        tls: {insecureSkipVerify: True, sni: 12345}
        dns: {refresh: null}
      """)
    assertNoDiagnostics(snapshot)
    let spec = snapshot.staticDestinations.first?.spec
    XCTAssertEqual(spec?.endpoints?.map(\.port), [8080, 65535])
    XCTAssertEqual(spec?.tls?.insecureSkipVerify, true)
    // A plain number is a fine string where a string is expected.
    XCTAssertEqual(spec?.tls?.sni, "12345")
    // null for an optional field means absent.
    XCTAssertNotNil(spec?.dns)
    XCTAssertNil(spec?.dns?.refresh)
  }

  func testScalarTypeErrors() {
    let cases: [(field: String, value: String, message: String)] = [
      ("port", "70000", "expected an integer 0-65535, found '70000'"),
      ("port", "-1", "expected an integer 0-65535, found '-1'"),
      ("port", "\"80\"", "expected an integer 0-65535, found '80'"),
      ("port", "8080.5", "expected an integer 0-65535, found '8080.5'"),
      ("port", "[80]", "expected an integer 0-65535, found a list"),
      ("port", "{a: 1}", "expected an integer 0-65535, found a mapping"),
      ("address", "[a, b]", "expected a string, found a list"),
      ("address", "~", "'address' must not be null"),
    ]
    for (field, value, message) in cases {
      let endpoint =
        field == "port" ? "{address: a.example.com, port: \(value)}" : "{address: \(value), port: 80}"
      let text = """
        apiVersion: portico.dev/v1
        kind: StaticDestination
        metadata: {name: d, namespace: team}
        spec:
          endpoints:
          - \(endpoint)
        """
      let snapshot = load(text)
      let error = expectDiagnostic(snapshot.errors, at: "spec.endpoints[0].\(field)")
      XCTAssertEqual(error?.message, message, "for \(field): \(value)")
      XCTAssertEqual(error?.location?.line, 6, "for \(field): \(value)")
      XCTAssertEqual(snapshot.broken.count, 1, "for \(field): \(value)")
    }
  }

  func testBooleansAreStrict() {
    for value in ["yes", "on", "1", "\"true\""] {
      let snapshot = load(
        """
        apiVersion: portico.dev/v1
        kind: StaticDestination
        metadata: {name: d, namespace: team}
        spec:
          endpoints: [{address: a, port: 1}]
          tls:
            insecureSkipVerify: \(value)
        """)
      let error = expectDiagnostic(
        snapshot.errors, at: "spec.tls.insecureSkipVerify", containing: "expected true or false")
      XCTAssertEqual(error?.location?.line, 7, value)
      XCTAssertEqual(error?.location?.column, 25, value)
    }
  }

  func testUnknownEnumValueListsTheAcceptedOnes() {
    let snapshot = load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: https}]
          connectionHandlers:
          - connectionOptions:
              sslConfig: {secretName: cert, tlsMode: STRICT}
          """),
      file: "vg.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "vg.yaml:8:46: spec.connectionHandlers[0].connectionOptions.sslConfig.tlsMode: unknown value 'STRICT'; "
          + "expected one of PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL"
      ])
    // Outside a route, a decoding error takes the document down.
    XCTAssertTrue(snapshot.virtualGateways.isEmpty)
    XCTAssertEqual(snapshot.broken.map(\.id), [ResourceID(.virtualGateway, namespace: "gw", name: "edge")])
  }

  // MARK: Route isolation

  func testBrokenRouteIsIsolated() {
    let text = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: orders, namespace: team}
      spec:
        routes:
        - name: first
          matchers: [{uri: {prefix: /a}}]
          directResponseAction: {status: 200}
        - name: broken
          matchers: [{uri: {prefix: /b}}]
          routeAction:
            destinations:
            - kubeService: {name: svc, namespace: team}
              weight: abc
        - name: third
          matchers: [{uri: {prefix: /c}}]
          routeAction:
            destinations:
            - kubeService: {name: svc, namespace: team}
              weight: 3
      """
    let snapshot = load(text, file: "orders.yaml")
    XCTAssertTrue(snapshot.broken.isEmpty)
    XCTAssertEqual(snapshot.routeTables.count, 1)
    guard let table = snapshot.routeTables.first, let routes = table.spec.routes else {
      return XCTFail("the route table did not load")
    }
    guard routes.count == 3 else { return XCTFail("expected 3 routes, got \(routes.count)") }
    XCTAssertEqual(routes.map(\.failedToDecode), [false, true, false])
    XCTAssertEqual(routes[0].name, "first")
    XCTAssertEqual(routes[0].directResponseAction?.status, 200)
    XCTAssertEqual(routes[2].name, "third")
    XCTAssertEqual(routes[2].routeAction?.destinations?.first?.weight, 3)
    // The placeholder carries nothing of the broken route.
    XCTAssertNil(routes[1].name)
    XCTAssertNil(routes[1].routeAction)
    XCTAssertEqual(routes[1].actionCount, 0)

    // Exactly one error, at the bad value; validation does not pile up errors on the placeholder.
    XCTAssertEqual(
      table.diagnostics.map(\.description),
      [
        "orders.yaml:14:17: spec.routes[1].routeAction.destinations[0].weight: "
          + "expected a non-negative 32-bit integer, found 'abc'"
      ])
    XCTAssertEqual(snapshot.errors.map(\.description), table.diagnostics.map(\.description))
  }

  func testTypeMismatchInsideOneRouteIsIsolated() {
    let text = routeTableYAML(
      routes: """
        - name: ok
          directResponseAction: {status: 200}
        - name: matchers-not-a-list
          matchers: {uri: {prefix: /b}}
        - just-a-string
        - name: bad-enum
          redirectAction: {responseCode: MOVED}
        - name: also-ok
          redirectAction: {pathRedirect: /new, responseCode: FOUND}
        """)
    let snapshot = load(text, file: "rt.yaml")
    guard let routes = snapshot.routeTables.first?.spec.routes else {
      return XCTFail("the route table did not load")
    }
    XCTAssertEqual(routes.map(\.failedToDecode), [false, true, true, true, false])
    XCTAssertEqual(routes.first?.name, "ok")
    XCTAssertEqual(routes.last?.name, "also-ok")
    XCTAssertEqual(routes.last?.redirectAction?.responseCode, .found)

    let errors = snapshot.errors
    XCTAssertEqual(errors.count, 3, describe(errors))
    assertLocation(
      expectDiagnostic(errors, at: "spec.routes[1].matchers", containing: "expected a list, found a mapping"),
      "rt.yaml", 9, 15)
    assertLocation(
      expectDiagnostic(errors, at: "spec.routes[2]", containing: "expected a mapping, found a scalar"),
      "rt.yaml", 10, 5)
    assertLocation(
      expectDiagnostic(
        errors, at: "spec.routes[3].redirectAction.responseCode",
        containing:
          "unknown value 'MOVED'; expected one of MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT"
      ),
      "rt.yaml", 12, 36)
  }

  func testBrokenRouteIsIsolatedInVirtualHostsAndInlineVirtualHosts() {
    let host = load(
      virtualHostYAML(
        spec: """
          domains: [example.com]
          routes:
          - name: bad
            matchers: [{uri: {prefix: /x}, method: [GET]}]
          - name: good
            directResponseAction: {status: 200}
          """))
    XCTAssertEqual(host.virtualHosts.first?.spec.routes?.map(\.failedToDecode), [true, false])
    expectDiagnostic(
      host.errors, at: "spec.routes[0].matchers[0].method", containing: "expected a string, found a list")
    XCTAssertEqual(host.errors.count, 1, describe(host.errors))

    let gateway = load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: http}]
          connectionHandlers:
          - http:
              routeConfig:
              - virtualHost:
                  domains: [example.com]
                  routes:
                  - name: good
                    directResponseAction: {status: 200}
                  - name: bad
                    directResponseAction: {status: teapot}
          """))
    XCTAssertEqual(gateway.virtualGateways.count, 1)
    let inline = gateway.virtualGateways.first?.spec.connectionHandlers?.first?.http?.routeConfig?.first?
      .virtualHost
    XCTAssertEqual(inline?.routes?.map(\.failedToDecode), [false, true])
    expectDiagnostic(
      gateway.errors,
      at: "spec.connectionHandlers[0].http.routeConfig[0].virtualHost.routes[1].directResponseAction.status",
      containing: "found 'teapot'")
    XCTAssertEqual(gateway.errors.count, 1, describe(gateway.errors))
  }

  /// A route that stops decoding part-way must not report its remaining (perfectly known) fields as unknown.
  func testBrokenRouteDoesNotReportItsOtherFieldsAsUnknown() {
    let text = routeTableYAML(
      routes: """
        - name: broken
          routeAction:
            destinations:
            - kubeService: {name: svc}
              weight: abc
              options: {headerManipulation: {removeRequestHeaders: [x-debug]}}
          options: {requestTimeout: 5s}
          labels: {team: a}
        """)
    let snapshot = load(text)
    XCTAssertEqual(snapshot.routeTables.first?.spec.routes?.map(\.failedToDecode), [true])
    let errors = snapshot.errors
    XCTAssertFalse(errors.contains { $0.message.contains("unknown field") }, describe(errors))
    XCTAssertEqual(errors.count, 1, describe(errors))
  }

  /// Likewise for a whole document whose spec stops decoding part-way.
  func testBrokenDocumentDoesNotReportItsOtherFieldsAsUnknown() {
    let text = virtualHostYAML(
      spec: """
        domains: example.com
        routes:
        - directResponseAction: {status: 200}
        options: {trafficPolicy: {requestTimeout: 5s}}
        """)
    let snapshot = load(text)
    XCTAssertEqual(snapshot.broken.count, 1)
    let errors = snapshot.errors
    expectDiagnostic(errors, at: "spec.domains", containing: "expected a list, found a scalar")
    XCTAssertFalse(errors.contains { $0.message.contains("unknown field") }, describe(errors))
  }

  // MARK: Broken resources

  func testSpecThatFailsOutsideARouteBecomesABrokenResource() {
    let text = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata:
        name: orders
        namespace: team
        labels: {area: orders, tier: gold}
      spec:
        weight: notanumber
        routes:
        - name: r
          directResponseAction: {status: 200}
      """
    let snapshot = load(text, file: "rt.yaml")
    XCTAssertTrue(snapshot.routeTables.isEmpty)
    XCTAssertEqual(snapshot.broken.count, 1)
    guard let broken = snapshot.broken.first else { return }
    XCTAssertEqual(broken.id, ResourceID(.routeTable, namespace: "team", name: "orders"))
    XCTAssertEqual(broken.labels, ["area": "orders", "tier": "gold"])
    XCTAssertEqual(broken.metadata.name, "orders")
    XCTAssertEqual(broken.metadata.namespace, "team")
    XCTAssertEqual(broken.source.file, "rt.yaml")
    XCTAssertEqual(
      broken.diagnostics.map(\.description),
      ["rt.yaml:8:11: spec.weight: expected a 32-bit integer, found 'notanumber'"])
    // The broken resource's diagnostics are part of allDiagnostics.
    XCTAssertEqual(snapshot.errors.map(\.description), broken.diagnostics.map(\.description))
  }

  func testBrokenResourceWithoutLabelsOrNamespace() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: StaticDestination
      metadata: {name: d}
      spec: {endpoints: [{address: a, port: big}]}
      """)
    XCTAssertEqual(
      snapshot.broken.map(\.id), [ResourceID(.staticDestination, namespace: "default", name: "d")])
    XCTAssertEqual(snapshot.broken.first?.labels, [:])
    XCTAssertTrue(snapshot.staticDestinations.isEmpty)
  }

  // MARK: Not-implemented upstream fields

  /// A recognised field that Portico does not act on is an error, never a warning: serving without it would
  /// fail open. Route options the data plane does not enforce (`mtls` here) load, and the translator fails
  /// the routes they reach (see PorticoTranslateTests' UnenforcedOptionTests).
  func testNotImplementedFieldsAreErrorsThatNameThem() {
    let snapshot = load(
      """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: p, namespace: team}
      spec:
        sourceSelector:
        - kubeWorkloadMatcher: {namespaces: [a]}
        routeSelector: [{routeLabelMatcher: {a: b}}]
        policy:
          mtls: {istio: {tlsMode: ISTIO_MUTUAL}}
      """,
      file: "tp.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      ["tp.yaml:6:3: spec.sourceSelector: 'spec.sourceSelector' is not implemented by Portico yet"])
    XCTAssertTrue(snapshot.warnings.isEmpty, describe(snapshot.warnings))
    XCTAssertEqual(snapshot.trafficPolicies.count, 1)
  }

  /// Listener options Portico does not implement are errors on their fields: the VirtualGateway is not
  /// served rather than served differently from what it says.
  func testUnimplementedListenerOptionsAreErrors() {
    let snapshot = load(
      virtualGatewayYAML(
        spec: """
          options: {perConnectionBufferLimitBytes: 65536}
          connectionHandlers:
          - connectionOptions: {strictFilterManagement: true, enableProxyProtocol: true}
            http: {routeConfig: [{virtualHostSelector: {}}]}
          """),
      file: "vg.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.path.description).sorted(),
      [
        "spec.connectionHandlers[0].connectionOptions.enableProxyProtocol",
        "spec.connectionHandlers[0].connectionOptions.strictFilterManagement",
        "spec.options.perConnectionBufferLimitBytes",
      ])
  }

  func testTCPHandlerWithoutPassthroughIsNotServed() {
    let snapshot = load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: tcp}]
          connectionHandlers:
          - tcp: {tcpHosts: [{name: db, destination: {staticDestination: {name: db}}}]}
          """))
    XCTAssertTrue(snapshot.errors.isEmpty, describe(snapshot.errors))
    expectDiagnostic(
      snapshot.warnings, .warning, at: "spec.connectionHandlers[0].tcp", containing: "PASSTHROUGH only")
    XCTAssertEqual(snapshot.virtualGateways.count, 1)
  }

  func testTCPHostsNeedOneDestination() {
    let snapshot = load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: tls}]
          connectionHandlers:
          - connectionOptions: {sslConfig: {tlsMode: PASSTHROUGH}}
            tcp:
              tcpHosts:
              - {name: none}
              - {name: two, destination: {staticDestination: {name: a}, kubeService: {name: b}}}
          """))
    expectDiagnostic(
      snapshot.errors, at: "spec.connectionHandlers[0].tcp.tcpHosts[0].destination",
      containing: "a tcpHost needs a destination")
    expectDiagnostic(
      snapshot.errors, at: "spec.connectionHandlers[0].tcp.tcpHosts[1].destination",
      containing: "give exactly one of kubeService, virtualDestination, staticDestination")
  }

  // MARK: ManifestDecoder used directly

  private struct Even: Decodable {
    var value: Int
    init(from decoder: Decoder) throws {
      value = try decoder.singleValueContainer().decode(Int.self)
      guard value % 2 == 0 else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: decoder.codingPath, debugDescription: "must be even"))
      }
    }
  }

  private struct Numbers: Decodable {
    var numbers: [Even]
  }

  private struct Noted: Decodable {
    var value: String
    init(from decoder: Decoder) throws {
      value = try decoder.singleValueContainer().decode(String.self)
      (decoder as? ManifestDecoding)?.report(.warning, "noted '\(value)'")
    }
  }

  private struct Notes: Decodable {
    var notes: [Noted]
  }

  func testDecodingErrorsOfCustomTypesArePlacedByCodingPath() throws {
    let root = try XCTUnwrap(YAMLComposer(file: "n.yaml").documents(in: "numbers: [2, 4, 7]\n").first)
    let (value, diagnostics) = ManifestDecoder().decode(Numbers.self, from: root)
    XCTAssertNil(value)
    XCTAssertEqual(diagnostics.map(\.description), ["n.yaml:1:17: numbers[2]: must be even"])
  }

  func testDecodingAtABasePath() throws {
    let text = """
      spec:
        numbers:
        - 2
        - 3
      """
    let root = try XCTUnwrap(YAMLComposer(file: "n.yaml").documents(in: text).first)
    let spec = try XCTUnwrap(root["spec"])
    let (value, diagnostics) = ManifestDecoder().decode(Numbers.self, from: spec, at: ["spec"])
    XCTAssertNil(value)
    XCTAssertEqual(diagnostics.map(\.description), ["n.yaml:4:5: spec.numbers[1]: must be even"])
  }

  func testTypesCanReportWarningsWithoutFailing() throws {
    let root = try XCTUnwrap(YAMLComposer(file: "w.yaml").documents(in: "notes: [a, b]\n").first)
    let (value, diagnostics) = ManifestDecoder().decode(Notes.self, from: root)
    XCTAssertEqual(value?.notes.map(\.value), ["a", "b"])
    XCTAssertEqual(
      diagnostics.map(\.description), ["w.yaml:1:9: notes[0]: noted 'a'", "w.yaml:1:12: notes[1]: noted 'b'"])
    XCTAssertTrue(diagnostics.allSatisfy { $0.severity == .warning })
  }

  func testDecodingReportsUnknownFieldsBesideTheValue() throws {
    let root = try XCTUnwrap(YAMLComposer(file: "u.yaml").documents(in: "numbers: [2]\nextra: 1\n").first)
    let (value, diagnostics) = ManifestDecoder().decode(Numbers.self, from: root)
    XCTAssertEqual(value?.numbers.map(\.value), [2])
    XCTAssertEqual(
      diagnostics.map(\.description), ["u.yaml:2:1: extra: unknown field 'extra' (known fields: numbers)"])
  }
}
