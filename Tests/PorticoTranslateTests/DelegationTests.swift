import XCTest

@testable import PorticoTranslate

final class DelegationTests: XCTestCase {
  /// Two and three levels, refs and selectors mixed, weights ordering tables reached by one delegateAction.
  func testThreeLevelsMixingRefsSelectorsAndWeights() {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: delegate(
          "api", "{uri: {prefix: /api}}", "{refs: [{name: first}], selector: {labels: {team: api}}}")),
      table("first", weight: 1, routes: forward("one", "{uri: {prefix: /one}}")),
      table(
        "heavy", weight: 50, labels: "{team: api}",
        routes: delegate("deep", "{uri: {prefix: /deep}}", "{selector: {labels: {level: three}}}")),
      table("light", weight: 1, labels: "{team: api}", routes: forward("light", "{uri: {prefix: /light}}")),
      table("leaf-b", weight: 0, labels: "{level: three}", routes: forward("b", "{uri: {exact: /b}}")),
      table("leaf-a", weight: 0, labels: "{level: three}", routes: forward("a", "{uri: {exact: /a}}")),
    ]
    let routes = translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.name), ["api.deep.a", "api.deep.b", "api.one", "api.light"])
    XCTAssertEqual(
      routes.flatMap(\.summaries),
      ["exact /api/deep/a", "exact /api/deep/b", "prefix /api/one", "prefix /api/light"])
    XCTAssertEqual(routes[0].chain.map(\.resource.name), ["shop", "heavy", "leaf-a"])
  }

  func testTablesOfEqualWeightKeepRefsThenNamespaceNameOrder() {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: delegate("all", "{uri: {prefix: /}}", "{refs: [{name: zeta}], selector: {labels: {x: y}}}")),
      table("zeta", labels: "{x: y}", routes: forward("z", "{uri: {prefix: /z}}")),
      table("beta", labels: "{x: y}", routes: forward("b", "{uri: {prefix: /b}}")),
      table("alpha", labels: "{x: y}", routes: forward("a", "{uri: {prefix: /a}}")),
    ]
    let routes = translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.name), ["all.z", "all.a", "all.b"])
  }

  func testRouteSpecificitySortsTheWholeSubtree() {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: delegate(
          "all", "{uri: {prefix: /}}", "{refs: [{name: t1}, {name: t2}], sortMethod: ROUTE_SPECIFICITY}")),
      table(
        "t1", weight: 10,
        routes: [
          forward("short-prefix", "{uri: {prefix: /a}}"),
          forward("regex", "{uri: {regex: '/r[0-9]'}}"),
        ].joined(separator: "\n")),
      table(
        "t2", weight: 5,
        routes: [
          forward("long-prefix", "{uri: {prefix: /a/b/c}}"),
          forward("exact", "{uri: {exact: /x}}"),
          delegate("nested", "{uri: {prefix: /n}}", "{refs: [{name: t3}], sortMethod: TABLE_WEIGHT}"),
        ].joined(separator: "\n")),
      table(
        "t3",
        routes: [
          forward("n-prefix", "{uri: {prefix: /p}}"), forward("n-exact", "{uri: {exact: /longer/exact}}"),
        ].joined(separator: "\n")),
    ]
    let routes = translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test")
    XCTAssertEqual(
      routes.map(\.name),
      [
        "all.nested.n-exact", "all.exact", "all.regex", "all.long-prefix", "all.nested.n-prefix",
        "all.short-prefix",
      ])
  }

  func testNestedRouteSpecificityAppliesBelowATableWeightParent() {
    let manifests = [
      host(
        "shop", domain: "shop.test", routes: delegate("all", "{uri: {prefix: /}}", "{refs: [{name: t1}]}")),
      table(
        "t1",
        routes: delegate(
          "inner", "{uri: {prefix: /i}}", "{refs: [{name: t2}], sortMethod: ROUTE_SPECIFICITY}")),
      table(
        "t2",
        routes: [forward("p", "{uri: {prefix: /p}}"), forward("e", "{uri: {exact: /e}}")].joined(
          separator: "\n")),
    ]
    let routes = translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.name), ["all.inner.e", "all.inner.p"])
  }

  func testMissingRefAndEmptySelectorWarnAndContributeNothing() throws {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: [
          delegate("gone", "{uri: {prefix: /gone}}", "{refs: [{name: nowhere}]}"),
          delegate("empty", "{uri: {prefix: /empty}}", "{selector: {labels: {nothing: here}}}"),
          forward("rest", "{uri: {prefix: /}}"),
        ].joined(separator: "\n"))
    ]
    let result = translate(manifests.joined(separator: "\n---\n"))
    XCTAssertEqual(result.routes(of: "shop.test").map(\.name), ["rest"])
    let status = try XCTUnwrap(result.status(.virtualHost, "apps", "shop"))
    XCTAssertEqual(status.state, .accepted)
    XCTAssertEqual(
      status.warnings.map { "\($0.path): \($0.message)" },
      [
        "spec.routes[0].delegateAction.refs[0]: RouteTable apps/nowhere not found; it contributes no routes",
        "spec.routes[1].delegateAction.selector: selector matches no route table",
      ])
  }

  func testCycleIsAnErrorOnTheClosingTableAndItsRouteIsReplaced() throws {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: [
          delegate("loop", "{uri: {prefix: /loop}}", "{refs: [{name: a}]}"),
          forward("sibling", "{uri: {prefix: /}}"),
        ].joined(separator: "\n")),
      table(
        "a",
        routes: [
          forward("fine", "{uri: {prefix: /fine}}"),
          delegate("to-b", "{uri: {prefix: /b}}", "{refs: [{name: b}]}"),
        ].joined(separator: "\n")),
      table("b", routes: delegate("back", "{uri: {prefix: /again}}", "{refs: [{name: a}]}")),
    ]
    let result = translate(manifests.joined(separator: "\n---\n"))
    let routes = result.routes(of: "shop.test")
    XCTAssertEqual(routes.map(\.name), ["loop.fine", "loop.to-b.back", "sibling"])
    XCTAssertEqual(routes[1].summaries, ["prefix /loop/b/again"])
    XCTAssertEqual(routes[1].directStatus, 500)
    XCTAssertNotNil(routes[1].replacement)
    XCTAssertEqual(routes[2].upstreams, ["static:apps/backend"])
    let status = try XCTUnwrap(result.status(.routeTable, "apps", "b"))
    XCTAssertEqual(status.state, .invalid)
    XCTAssertEqual(status.errors.map(\.message), ["delegation cycle: [apps.a] -> [apps.b] -> [apps.a]"])
    XCTAssertEqual(status.errors.first?.path.description, "spec.routes[0].delegateAction")
    XCTAssertEqual(result.status(.routeTable, "apps", "a")?.state, .accepted)
  }

  func testSelfDelegationIsACycle() throws {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: delegate("root", "{uri: {prefix: /}}", "{refs: [{name: self-loop}]}")),
      table("self-loop", routes: delegate("me", "{uri: {prefix: /x}}", "{refs: [{name: self-loop}]}")),
    ]
    let result = translate(manifests.joined(separator: "\n---\n"))
    XCTAssertEqual(
      result.status(.routeTable, "apps", "self-loop")?.errors.map(\.message),
      ["delegation cycle: [apps.self-loop] -> [apps.self-loop]"])
    XCTAssertEqual(result.routes(of: "shop.test").map(\.directStatus), [500])
  }

  func testAThousandTablesInACycleStopAtTheDepthLimitWithoutCrashing() {
    var manifests = [
      host(
        "shop", domain: "shop.test", routes: delegate("root", "{uri: {prefix: /}}", "{refs: [{name: t0}]}"))
    ]
    for index in 0..<1000 {
      manifests.append(
        table(
          "t\(index)",
          routes: delegate("next", "{uri: {prefix: /n}}", "{refs: [{name: t\((index + 1) % 1000)}]}")))
    }
    let result = translate(manifests.joined(separator: "\n---\n"))
    let depth = Translator.Limits().maximumDelegationDepth
    let errors = result.status(.routeTable, "apps", "t\(depth - 1)")?.errors.map(\.message) ?? []
    XCTAssertEqual(errors, ["delegation nests deeper than \(depth) route tables (from [apps.t0])"])
    XCTAssertEqual(result.routes(of: "shop.test").map(\.directStatus), [500])
    let cycle = (0..<5).map { index in
      table(
        "c\(index)", routes: delegate("next", "{uri: {prefix: /n}}", "{refs: [{name: c\((index + 1) % 5)}]}"))
    }
    let root = host(
      "ring", domain: "ring.test", routes: delegate("root", "{uri: {prefix: /}}", "{refs: [{name: c0}]}"))
    let ring = translate(([root] + cycle).joined(separator: "\n---\n"))
    XCTAssertEqual(
      ring.status(.routeTable, "apps", "c4")?.errors.map(\.message),
      ["delegation cycle: [apps.c0] -> [apps.c1] -> [apps.c2] -> [apps.c3] -> [apps.c4] -> [apps.c0]"])
  }

  func testExplosiveDelegationStopsAtTheRouteBudget() {
    // Each table delegates to the next twice: 2^30 routes if nothing stopped it.
    var manifests = [
      host(
        "shop", domain: "shop.test", routes: delegate("root", "{uri: {prefix: /}}", "{refs: [{name: t0}]}"))
    ]
    for index in 0..<30 {
      let next = "{refs: [{name: t\(index + 1)}]}"
      manifests.append(
        table(
          "t\(index)",
          routes: delegate("l", "{uri: {prefix: /l}}", next) + "\n"
            + delegate("r", "{uri: {prefix: /r}}", next)))
    }
    manifests.append(table("t30", routes: forward("leaf", "{uri: {prefix: /x}}")))
    var limits = Translator.Limits()
    limits.maximumRoutes = 2_000
    let result = Translator(limits: limits).translate(
      snapshot(manifests.joined(separator: "\n---\n")), for: testGateway)
    let errors = result.status(.virtualHost, "apps", "shop")?.errors.map(\.message) ?? []
    XCTAssertEqual(errors, ["delegation expands to more than 2000 routes; the rest are not built"])
    let built = result.routes(of: "shop.test").count
    XCTAssertTrue((1..<2_000).contains(built), "what was built before the budget ran out is kept: \(built)")
  }

  func testRouteLabelsPropagateToChildrenAndChildrenWin() throws {
    let manifests = [
      host(
        "shop", domain: "shop.test",
        routes: """
            - name: p
              labels: {tier: gold, owner: platform}
              matchers: [{uri: {prefix: /p}}]
              delegateAction: {refs: [{name: child}]}
          """),
      table(
        "child",
        routes: """
            - name: c
              labels: {owner: team}
              directResponseAction: {status: 200}
          """),
    ]
    let route = try XCTUnwrap(translate(manifests.joined(separator: "\n---\n")).routes(of: "shop.test").first)
    XCTAssertEqual(route.labels, ["tier": "gold", "owner": "team"])
  }
}
