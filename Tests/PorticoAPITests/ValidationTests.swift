import PorticoAPI
import XCTest

/// What the Validator checks after decoding: regexes, durations, domains, TLS, one-of choices and ranges.
final class ValidationTests: XCTestCase {
  private struct Case {
    let yaml: String
    let path: String
    let message: String
    var severity: Diagnostic.Severity = .error
  }

  /// Loads each case's routes into a RouteTable and expects its diagnostic.
  private func checkRouteCases(_ cases: [Case], file: StaticString = #filePath, line: UInt = #line) {
    for item in cases {
      let snapshot = load(routeTableYAML(routes: item.yaml))
      expectDiagnostic(
        snapshot.allDiagnostics, item.severity, at: item.path, containing: item.message, file: file,
        line: line)
      XCTAssertEqual(
        snapshot.routeTables.count, 1, "validation errors must not drop the resource", file: file, line: line)
    }
  }

  // MARK: Regexes

  func testBadRegexesAreErrorsAtTheRegexField() {
    let text = #"""
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: regexes, namespace: team}
      spec:
        routes:
        - name: backreference
          matchers:
          - uri:
              regex: '(a)\1'
          directResponseAction: {status: 200}
        - name: lookahead
          matchers:
          - uri: {regex: '/(?=x)'}
          directResponseAction: {status: 200}
        - name: good
          matchers:
          - uri: {regex: '/api/v[0-9]+/.*'}
            headers: [{name: x-tenant, value: 'acme|globex', regex: true}]
            queryParameters: [{name: debug, value: '[01]', regex: true}]
          directResponseAction: {status: 200}
      """#
    let snapshot = load(text, file: "regex.yaml")
    let errors = snapshot.errors
    XCTAssertEqual(errors.count, 2, describe(errors))

    let backreference = expectDiagnostic(
      errors, at: "spec.routes[0].matchers[0].uri.regex", containing: #"regex '(a)\1'"#)
    assertLocation(backreference, "regex.yaml", 9, 9)
    XCTAssertEqual(backreference?.message.contains("RE2"), true)

    let lookahead = expectDiagnostic(
      errors, at: "spec.routes[1].matchers[0].uri.regex", containing: "regex '/(?=x)'")
    assertLocation(lookahead, "regex.yaml", 13, 13)

    // The table still loads, with its diagnostics attached.
    XCTAssertEqual(snapshot.routeTables.first?.diagnostics.errors.count, 2)

    // Good regexes are compiled once at load time and can be looked up.
    let uri = snapshot.regexes.lookup("/api/v[0-9]+/.*")
    XCTAssertNotNil(uri)
    XCTAssertEqual(uri?.matchesWhole("/api/v2/items"), true)
    XCTAssertEqual(uri?.matchesWhole("/api/vx/items"), false)
    XCTAssertEqual(snapshot.regexes.lookup("acme|globex")?.matchesWhole("globex"), true)
    XCTAssertEqual(snapshot.regexes.lookup("[01]")?.matchesWhole("1"), true)
    // Bad ones are not in the table; nor is a case-insensitive variant nobody asked for.
    XCTAssertNil(snapshot.regexes.lookup(#"(a)\1"#))
    XCTAssertNil(snapshot.regexes.lookup("/(?=x)"))
    XCTAssertNil(snapshot.regexes.lookup("/api/v[0-9]+/.*", ignoringCase: true))
  }

  func testHeaderAndQueryParameterRegexes() {
    checkRouteCases([
      Case(
        yaml: """
          - matchers: [{headers: [{name: x-a, value: '(?<=a)b', regex: true}]}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].headers[0].value", message: "in regex '(?<=a)b'"),
      Case(
        yaml: """
          - matchers: [{headers: [{name: x-a, regex: true}]}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].headers[0].regex", message: "regex: true needs a value"),
      Case(
        yaml: """
          - matchers: [{queryParameters: [{name: q, value: '(unclosed', regex: true}]}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].queryParameters[0].value", message: "in regex '(unclosed'"),
      Case(
        yaml: """
          - matchers: [{queryParameters: [{name: q, regex: true}]}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].queryParameters[0].regex", message: "regex: true needs a value"),
      Case(
        yaml: """
          - matchers: [{uri: {regex: '/a.*', ignoreCase: true}}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].uri.ignoreCase", message: "ignoreCase has no effect on regex",
        severity: .warning),
    ])
  }

  func testHeaderValueWithoutRegexIsNotCompiled() {
    // `value` is a literal unless `regex: true`: a value that is not a valid regex is fine.
    let snapshot = load(
      routeTableYAML(
        routes: """
          - matchers: [{headers: [{name: x-a, value: '(a)\\1'}]}]
            directResponseAction: {status: 200}
          """))
    assertNoDiagnostics(snapshot)
  }

  // MARK: Durations

  func testDurations() {
    let text = virtualHostYAML(
      spec: """
        domains: [example.com]
        options:
          trafficPolicy:
            requestTimeout: 1m30s
            retries: {attempts: 2, perTryTimeout: 1.5s}
        routes:
        - name: fast-route
          options:
            requestTimeout: fast
          directResponseAction: {status: 200}
        - name: ok
          options:
            requestTimeout: 100ms
            corsPolicy: {allowOrigins: [{exact: "https://a.example.com"}], maxAge: 15s}
          directResponseAction: {status: 200}
        """)
    let snapshot = load(text, file: "vh.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "vh.yaml:13:7: spec.routes[0].options.requestTimeout: invalid duration 'fast'; "
          + "write it like 15s, 250ms or 1m30s"
      ])
    guard let spec = snapshot.virtualHosts.first?.spec, spec.routes?.count == 2 else {
      return XCTFail("the virtual host did not load with its two routes")
    }
    XCTAssertEqual(spec.options?.trafficPolicy?.requestTimeout?.nanoseconds, 90_000_000_000)
    XCTAssertEqual(spec.options?.trafficPolicy?.retries?.perTryTimeout?.nanoseconds, 1_500_000_000)
    XCTAssertEqual(spec.routes?[1].options?.requestTimeout?.nanoseconds, 100_000_000)
    XCTAssertEqual(spec.routes?[1].options?.corsPolicy?.maxAge?.nanoseconds, 15_000_000_000)
    // The bad value keeps its text and decodes (so the rest of the route still loads).
    let bad = spec.routes?[0].options?.requestTimeout
    XCTAssertEqual(bad?.text, "fast")
    XCTAssertNil(bad?.nanoseconds)
    XCTAssertEqual(bad?.isValid, false)
    XCTAssertEqual(spec.routes?[0].failedToDecode, false)
    XCTAssertEqual(spec.routes?[0].directResponseAction?.status, 200)
  }

  func testDurationFieldsAcrossPolicies() {
    checkRouteCases([
      Case(
        yaml: """
          - options: {retries: {attempts: 1, perTryTimeout: 500us}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.retries.perTryTimeout", message: "must be at least 1ms"),
      Case(
        yaml: """
          - options: {faultInjection: {fixedDelay: soon}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.faultInjection.fixedDelay", message: "invalid duration 'soon'"),
      Case(
        yaml: """
          - options: {corsPolicy: {maxAge: 10}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.corsPolicy.maxAge", message: "invalid duration '10'"),
      Case(
        yaml: """
          - options: {connectionPoolSettings: {tcp: {connectTimeout: 1x}, http: {idleTimeout: 1h}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.connectionPoolSettings.tcp.connectTimeout",
        message: "invalid duration '1x'"),
      Case(
        yaml: """
          - options: {connectionPoolSettings: {http: {idleTimeout: forever}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.connectionPoolSettings.http.idleTimeout",
        message: "invalid duration 'forever'"),
      Case(
        yaml: """
          - options: {rateLimitSettings: {requestTimeout: 1 s}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.rateLimitSettings.requestTimeout", message: "invalid duration '1 s'"),
      Case(
        yaml: """
          - options: {extauthSettings: {requestTimeout: -1s}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.extauthSettings.requestTimeout", message: "invalid duration '-1s'"),
    ])
  }

  func testZeroDurationIsValid() {
    // `0s` disables the request timeout (§11.11).
    let snapshot = load(
      routeTableYAML(
        routes: """
          - options: {requestTimeout: 0s}
            directResponseAction: {status: 200}
          - options: {requestTimeout: "0"}
            directResponseAction: {status: 200}
          """))
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(
      snapshot.routeTables.first?.spec.routes?.map { $0.options?.requestTimeout?.nanoseconds }, [0, 0])
  }

  // MARK: Domains and server names

  func testDomains() {
    let text = virtualHostYAML(
      spec: """
        domains: ["*.example.com", "api.*", "*", "a.*.com", "*-shop.example.com", shop.example.com]
        routes:
        - directResponseAction: {status: 200}
        """)
    let snapshot = load(text, file: "vh.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "vh.yaml:5:44: spec.domains[3]: invalid wildcard in 'a.*.com': a '*' may only stand alone, lead or end the domain"
      ])
    XCTAssertEqual(snapshot.virtualHosts.count, 1)
  }

  func testDomainPatternRules() {
    for valid in ["*.example.com", "api.*", "*", "*-shop.example.com", "example.com", "localhost"] {
      XCTAssertNil(DomainPattern.problem(with: valid), valid)
    }
    for invalid in ["a.*.com", "**", "*.*", "api.*.*", "*a*", "", "a b", "a/b", "ex*ample.com"] {
      XCTAssertNotNil(DomainPattern.problem(with: invalid), invalid)
    }
    XCTAssertEqual(DomainPattern.problem(with: ""), "domain must not be empty")
  }

  func testServerNameRules() {
    for valid in ["*.example.com", "example.com", "*.com"] {
      XCTAssertNil(DomainPattern.problem(withServerName: valid), valid)
    }
    for invalid in ["*w.example.com", "a.*.com", "*", "*.*.com", "example.*", ""] {
      XCTAssertNotNil(DomainPattern.problem(withServerName: invalid), invalid)
    }
  }

  // MARK: TLS

  private func gateway(sslConfig: String, extraOptions: String = "") -> ResourceSnapshot {
    load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: https}]
          connectionHandlers:
          - connectionOptions:
              sslConfig: \(sslConfig)\(extraOptions)
            http:
              routeConfig: [{virtualHostSelector: {}}]
          """),
      file: "vg.yaml")
  }

  func testTLSModeMustBeGivenExplicitly() {
    let snapshot = gateway(sslConfig: "{secretName: edge-cert}")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "vg.yaml:8:18: spec.connectionHandlers[0].connectionOptions.sslConfig.tlsMode: "
          + "tlsMode must be given explicitly (SIMPLE, MUTUAL, PASSTHROUGH, ...)"
      ])
    XCTAssertEqual(snapshot.virtualGateways.count, 1)
  }

  func testTLSConfigurations() {
    let valid = [
      "{secretName: edge-cert, tlsMode: SIMPLE}",
      "{sslFiles: {tlsCert: /c.pem, tlsKey: /k.pem}, tlsMode: SIMPLE}",
      "{tlsMode: AUTO_PASSTHROUGH}",
      "{sslFiles: {tlsCert: /c.pem, tlsKey: /k.pem, rootCa: /ca.pem}, tlsMode: MUTUAL, verifySubjectAltName: [client]}",
      "{secretName: c, tlsMode: SIMPLE, parameters: {minimumProtocolVersion: TLSv1_2, maximumProtocolVersion: TLSv1_3}}",
    ]
    for config in valid {
      let snapshot = gateway(sslConfig: config)
      XCTAssertTrue(snapshot.errors.isEmpty, "\(config):\n\(describe(snapshot.errors))")
      XCTAssertEqual(snapshot.virtualGateways.count, 1, config)
    }
    let mutual = gateway(sslConfig: "{secretName: c, tlsMode: MUTUAL, verifySubjectAltName: [a]}")
    XCTAssertEqual(
      mutual.virtualGateways.first?.spec.connectionHandlers?.first?.connectionOptions?.sslConfig?.tlsMode,
      .mutual)

    let sslPath = "spec.connectionHandlers[0].connectionOptions.sslConfig"
    expectDiagnostic(
      gateway(sslConfig: "{tlsMode: SIMPLE}").errors, at: sslPath,
      containing: "give exactly one of secretName, sslFiles")
    expectDiagnostic(
      gateway(sslConfig: "{tlsMode: SIMPLE, secretName: a, sslFiles: {tlsCert: c, tlsKey: k}}").errors,
      at: sslPath, containing: "give exactly one of secretName, sslFiles")
    expectDiagnostic(
      gateway(sslConfig: "{tlsMode: SIMPLE, secretName: a, verifySubjectAltName: [x]}").errors,
      at: sslPath + ".verifySubjectAltName", containing: "verifySubjectAltName needs tlsMode MUTUAL")
    expectDiagnostic(
      gateway(sslConfig: "{tlsMode: SIMPLE, secretName: a}", extraOptions: "\n    httpsRedirect: true")
        .errors,
      at: "spec.connectionHandlers[0].connectionOptions",
      containing: "give at most one of sslConfig, httpsRedirect")
    expectDiagnostic(
      gateway(sslConfig: "{tlsMode: PASSTHROUGH}").errors, at: sslPath + ".tlsMode",
      containing: "PASSTHROUGH hands the TLS connection on unterminated: it needs a tcp handler")
  }

  func testHeaderValueVariablesAreChecked() {
    checkRouteCases([
      Case(
        yaml: """
          - options: {headerManipulation: {appendRequestHeaders: {x-a: "%NOPE%"}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.headerManipulation.appendRequestHeaders.x-a",
        message: "unknown variable %NOPE%"),
      Case(
        yaml: """
          - options: {headerManipulation: {appendResponseHeaders: {x-b: "50%"}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.headerManipulation.appendResponseHeaders.x-b",
        message: "an unclosed '%'"),
    ])
  }

  // MARK: Routes

  func testRouteActions() {
    let oneAction = "give exactly one of routeAction, redirectAction, directResponseAction, delegateAction"
    checkRouteCases([
      Case(yaml: "- name: nothing", path: "spec.routes[0]", message: oneAction),
      Case(
        yaml: "- {directResponseAction: {status: 200}, redirectAction: {pathRedirect: /x}}",
        path: "spec.routes[0]", message: oneAction),
      Case(
        yaml: "- routeAction: {}", path: "spec.routes[0].routeAction.destinations",
        message: "a routeAction needs at least one destination"),
      Case(
        yaml: "- routeAction: {destinations: [{kubeService: {name: a}, staticDestination: {name: b}}]}",
        path: "spec.routes[0].routeAction.destinations[0]",
        message: "give exactly one of kubeService, virtualDestination, staticDestination"),
      Case(
        yaml: "- routeAction: {destinations: [{weight: 1}]}",
        path: "spec.routes[0].routeAction.destinations[0]",
        message: "give exactly one of kubeService, virtualDestination, staticDestination"),
      Case(
        yaml: """
          - matchers: [{uri: {prefix: /a}}, {uri: {regex: /b.*}}]
            routeAction: {pathRewrite: /, destinations: [{staticDestination: {name: s}}]}
          """,
        path: "spec.routes[0].routeAction.pathRewrite",
        message: "pathRewrite needs prefix or exact matchers; matchers[1] is a regex"),
      Case(
        yaml: """
          - matchers: [{uri: {suffix: .json}}]
            routeAction: {pathRewrite: /, destinations: [{staticDestination: {name: s}}]}
          """,
        path: "spec.routes[0].routeAction.pathRewrite",
        message: "pathRewrite needs prefix or exact matchers; matchers[0] is a suffix"),
      Case(
        yaml: """
          - routeAction:
              destinations:
              - staticDestination: {name: s}
                options: {headerManipulation: {removeRequestHeaders: ["bad header"]}}
          """,
        path: "spec.routes[0].routeAction.destinations[0].options.headerManipulation.removeRequestHeaders",
        message: "invalid header name 'bad header'"),
      Case(
        yaml: "- redirectAction: {pathRedirect: /a, prefixRewrite: /b}",
        path: "spec.routes[0].redirectAction",
        message: "give at most one of pathRedirect, prefixRewrite"),
      Case(
        yaml: "- redirectAction: {pathRedirect: relative}",
        path: "spec.routes[0].redirectAction.pathRedirect",
        message: "pathRedirect must start with '/'"),
      Case(
        yaml: "- redirectAction: {portRedirect: 70000}", path: "spec.routes[0].redirectAction.portRedirect",
        message: "port must be between 1 and 65535"),
      Case(
        yaml: "- directResponseAction: {status: 99}", path: "spec.routes[0].directResponseAction.status",
        message: "status must be between 100 and 599"),
      Case(
        yaml: "- directResponseAction: {status: 600}", path: "spec.routes[0].directResponseAction.status",
        message: "status must be between 100 and 599"),
    ])
  }

  func testDelegation() {
    checkRouteCases([
      Case(
        yaml: """
          - matchers: [{uri: {prefix: /a}}]
            delegateAction: {}
          """,
        path: "spec.routes[0].delegateAction", message: "give refs, a selector, or both"),
      Case(
        yaml: """
          - matchers: [{uri: {prefix: /a}}]
            delegateAction: {refs: []}
          """,
        path: "spec.routes[0].delegateAction", message: "give refs, a selector, or both"),
      Case(
        yaml: """
          - matchers: [{uri: {prefix: /a}}, {uri: {exact: /b}}]
            delegateAction: {refs: [{name: child}]}
          """,
        path: "spec.routes[0].matchers[1].uri", message: "a delegating route must match a path prefix"),
      Case(
        yaml: """
          - matchers: [{uri: {regex: /a.*}}]
            delegateAction: {refs: [{name: child}]}
          """,
        path: "spec.routes[0].matchers[0].uri", message: "a delegating route must match a path prefix"),
      Case(
        yaml: """
          - matchers: [{uri: {prefix: /a}}]
            delegateAction: {selector: {expressions: [{key: tier, operator: In}]}}
          """,
        path: "spec.routes[0].delegateAction.selector.expressions[0].values", message: "In needs values"),
    ])

    let valid = load(
      routeTableYAML(
        routes: """
          - matchers: [{uri: {prefix: /a}, headers: [{name: x-a}], method: GET}]
            delegateAction:
              refs: [{name: child, namespace: team}]
              selector:
                namespaces: ["*"]
                labels: {area: a}
                expressions: [{key: tier, operator: Exists}, {key: env, operator: NotIn, values: [dev]}]
              sortMethod: ROUTE_SPECIFICITY
              passFullPath: true
          - delegateAction: {selector: {}}
          """))
    assertNoDiagnostics(valid)
    let delegate = valid.routeTables.first?.spec.routes?.first?.delegateAction
    XCTAssertEqual(delegate?.sortMethod, .routeSpecificity)
    XCTAssertEqual(delegate?.passFullPath, true)
    XCTAssertEqual(delegate?.selector?.expressions?.map { $0.operator }, [.exists, .notIn])
  }

  func testMatchers() {
    checkRouteCases([
      Case(
        yaml: """
          - matchers: [{uri: {exact: /a, prefix: /a}}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].uri", message: "give exactly one of exact, prefix, regex, suffix"),
      Case(
        yaml: """
          - matchers: [{uri: {ignoreCase: true}}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].uri", message: "give exactly one of exact, prefix, regex, suffix"),
      Case(
        yaml: """
          - matchers: [{headers: [{name: "bad header"}]}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].headers[0].name", message: "invalid header name 'bad header'"),
      Case(
        yaml: """
          - matchers: [{queryParameters: [{name: ""}]}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].queryParameters[0].name",
        message: "query parameter name must not be empty"),
      Case(
        yaml: """
          - matchers: [{method: "GE T"}]
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].matchers[0].method", message: "invalid method 'GE T'"),
      Case(
        yaml: """
          - labels: {"": x}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].labels", message: "label keys must not be empty"),
    ])
  }

  // MARK: Policies

  func testPolicies() {
    checkRouteCases([
      Case(
        yaml: """
          - options: {faultInjection: {percentage: 50}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.faultInjection", message: "give fixedDelay, abort, or both"),
      Case(
        yaml: """
          - options: {faultInjection: {abort: {httpStatus: 700}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.faultInjection.abort.httpStatus",
        message: "status must be between 200 and 599"),
      Case(
        yaml: """
          - options: {faultInjection: {fixedDelay: 1s, percentage: 150}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.faultInjection.percentage",
        message: "percentage must be between 0 and 100"),
      Case(
        yaml: """
          - options: {mirror: {percentage: 10}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.mirror", message: "give exactly one of kubeService, staticDestination"),
      Case(
        yaml: """
          - options: {mirror: {kubeService: {name: shadow}, percentage: -5}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.mirror.percentage", message: "percentage must be between 0 and 100"),
      Case(
        yaml: """
          - options: {retries: {attempts: -1}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.retries.attempts", message: "must not be negative"),
      Case(
        yaml: """
          - options: {trafficShift: {destinations: [{staticDestination: {name: s}}]}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.trafficShift",
        message: "trafficShift is honoured on virtual hosts and TrafficPolicies only, not per route",
        severity: .warning),
      Case(
        yaml: """
          - options: {outlierDetection: {maxEjectionPercent: 150}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.outlierDetection.maxEjectionPercent",
        message: "must be between 0 and 100"),
      Case(
        yaml: """
          - options: {extauth: {disable: true, configRef: {name: basic}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.extauth", message: "give at most one of disable, configRef, customAuth"),
      Case(
        yaml: """
          - options: {headerManipulation: {appendRequestHeaders: {"bad name": x}}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.headerManipulation.appendRequestHeaders",
        message: "invalid header name 'bad name'"),
      Case(
        yaml: """
          - options: {csrf: {percentage: 101, additionalOrigins: [{exact: a, suffix: b}]}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.csrf.percentage", message: "percentage must be between 0 and 100"),
      Case(
        yaml: """
          - options: {csrf: {additionalOrigins: [{exact: a, suffix: b}]}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.csrf.additionalOrigins[0]",
        message: "give exactly one of exact, prefix, regex, suffix"),
      Case(
        yaml: """
          - options: {corsPolicy: {allowOrigins: [{regex: 'https://(?!evil)'}]}}
            directResponseAction: {status: 200}
          """,
        path: "spec.routes[0].options.corsPolicy.allowOrigins[0].regex", message: "in regex"),
    ])
  }

  func testVirtualHostLevelPolicyMayShiftTraffic() {
    let snapshot = load(
      virtualHostYAML(
        spec: """
          domains: [example.com]
          options:
            trafficPolicy:
              trafficShift: {destinations: [{staticDestination: {name: s}, weight: 1}]}
              outlierDetection: {consecutiveErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
          routes:
          - directResponseAction: {status: 200}
          """))
    assertNoDiagnostics(snapshot)
  }

  // MARK: Virtual hosts

  func testVirtualHostChecks() {
    let noDomains = load(virtualHostYAML(spec: "routes: [{directResponseAction: {status: 200}}]"))
    expectDiagnostic(
      noDomains.errors, at: "spec.domains", containing: "a virtual host needs at least one domain")

    let noRoutes = load(virtualHostYAML(spec: "domains: [example.com]\nroutes: []"))
    XCTAssertTrue(noRoutes.errors.isEmpty, describe(noRoutes.errors))
    expectDiagnostic(
      noRoutes.warnings, .warning, at: "spec.routes", containing: "no routes: this virtual host is ignored")

    let missingRoutes = load(virtualHostYAML(spec: "domains: [example.com]"))
    expectDiagnostic(missingRoutes.warnings, .warning, at: "spec.routes", containing: "no routes")
  }

  func testInvalidRoutePolicy() {
    func host(_ policy: String) -> ResourceSnapshot {
      load(
        virtualHostYAML(
          spec: """
            domains: [example.com]
            options: {invalidRoutePolicy: \(policy)}
            routes: [{directResponseAction: {status: 200}}]
            """))
    }
    let oneOf = "give exactly one of drop, directResponse, rejectVirtualHost"
    expectDiagnostic(host("{}").errors, at: "spec.options.invalidRoutePolicy", containing: oneOf)
    expectDiagnostic(
      host("{drop: {}, rejectVirtualHost: {}}").errors, at: "spec.options.invalidRoutePolicy",
      containing: oneOf)
    expectDiagnostic(
      host("{directResponse: {status: 42}}").errors,
      at: "spec.options.invalidRoutePolicy.directResponse.status",
      containing: "status must be between 100 and 599")
    for valid in ["{drop: {}}", "{rejectVirtualHost: {}}", "{directResponse: {status: 404, body: gone}}"] {
      let snapshot = host(valid)
      assertNoDiagnostics(snapshot)
      XCTAssertNotNil(snapshot.virtualHosts.first?.spec.options?.invalidRoutePolicy, valid)
    }
  }

  // MARK: Other kinds

  func testVirtualGatewayChecks() {
    let empty = load(virtualGatewayYAML(spec: "options: {bindAddress: 0.0.0.0}"))
    expectDiagnostic(
      empty.errors, at: "spec.connectionHandlers", containing: "give at least one connection handler")
    expectDiagnostic(
      empty.warnings, .warning, at: "spec.ingressGatewaySelectors",
      containing: "no ingressGatewaySelectors: this VirtualGateway selects no gateway")

    let twoHandlers = load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: https}]
          connectionHandlers:
          - http: {routeConfig: [{virtualHostSelector: {}}]}
          - connectionMatch: {serverNames: ["*w.example.com"]}
            http: {routeConfig: [{}]}
          - {}
          """))
    let errors = twoHandlers.errors
    expectDiagnostic(
      errors, at: "spec.connectionHandlers[0].connectionMatch",
      containing: "serverNames are required when there is more than one connection handler")
    expectDiagnostic(
      errors, at: "spec.connectionHandlers[1].connectionMatch.serverNames[0]",
      containing: "invalid server name '*w.example.com'")
    expectDiagnostic(
      errors, at: "spec.connectionHandlers[1].http.routeConfig[0]",
      containing: "give exactly one of virtualHostSelector, virtualHost")
    expectDiagnostic(errors, at: "spec.connectionHandlers[2]", containing: "give exactly one of http, tcp")

    let inline = load(
      virtualGatewayYAML(
        spec: """
          ingressGatewaySelectors: [{portName: http}]
          connectionHandlers:
          - http:
              routeConfig:
              - virtualHost:
                  domains: ["a.*.com"]
                  routes: [{directResponseAction: {status: 200}}]
          """))
    expectDiagnostic(
      inline.errors, at: "spec.connectionHandlers[0].http.routeConfig[0].virtualHost.domains[0]",
      containing: "invalid wildcard in 'a.*.com'")
  }

  func testStaticDestinationChecks() {
    func destination(_ spec: String) -> ResourceSnapshot {
      load(
        """
        apiVersion: portico.dev/v1
        kind: StaticDestination
        metadata: {name: d, namespace: team}
        spec: \(spec)
        """)
    }
    expectDiagnostic(
      destination("{}").errors, at: "spec.endpoints",
      containing: "a StaticDestination needs at least one endpoint")
    expectDiagnostic(
      destination("{endpoints: [{address: a, port: 0}]}").errors, at: "spec.endpoints[0].port",
      containing: "port must be between 1 and 65535")
    expectDiagnostic(
      destination("{endpoints: [{address: \"\", port: 80}]}").errors, at: "spec.endpoints[0].address",
      containing: "address must not be empty")
    expectDiagnostic(
      destination("{endpoints: [{address: a, port: 80}], dns: {refresh: 0s}}").errors, at: "spec.dns.refresh",
      containing: "must be at least 1ms")
    expectDiagnostic(
      destination("{endpoints: [{address: a, port: 80}], protocol: HTTP3}").errors, at: "spec.protocol",
      containing: "unknown value 'HTTP3'; expected one of HTTP, HTTP2, GRPC")
  }

  func testServiceWithSeveralPortsNeedsPortNames() {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Service
      metadata: {name: s, namespace: team}
      spec:
        ports: [{name: http, port: 80}, {port: 81}]
      """)
    expectDiagnostic(
      snapshot.errors, at: "spec.ports",
      containing: "every port needs a name when a Service has more than one")
  }

  func testTrafficPolicyChecks() {
    let noSelector = load(
      """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: p, namespace: team}
      spec:
        policy: {requestTimeout: 5s}
      """)
    XCTAssertTrue(noSelector.errors.isEmpty, describe(noSelector.errors))
    expectDiagnostic(
      noSelector.warnings, .warning, at: "spec",
      containing: "no routeSelector: this TrafficPolicy applies to no gateway route")

    let bad = load(
      """
      apiVersion: networking.mesh.gloo.solo.io/v1
      kind: TrafficPolicy
      metadata: {name: p, namespace: team}
      spec:
        routeSelector:
        - virtualHostSelector: {expressions: [{key: a, operator: Equals}]}
        policy:
          requestTimeout: later
          trafficShift: {destinations: [{kubeService: {name: a}, virtualDestination: {name: b}}]}
      """)
    let errors = bad.errors
    expectDiagnostic(
      errors, at: "spec.routeSelector[0].virtualHostSelector.expressions[0].values",
      containing: "Equals needs values")
    expectDiagnostic(errors, at: "spec.policy.requestTimeout", containing: "invalid duration 'later'")
    expectDiagnostic(
      errors, at: "spec.policy.trafficShift.destinations[0]",
      containing: "give exactly one of kubeService, virtualDestination, staticDestination")
    // A TrafficPolicy is VirtualHost-level: trafficShift is allowed there.
    XCTAssertFalse(bad.warnings.contains { $0.message.contains("not per route") }, describe(bad.warnings))
  }
}
