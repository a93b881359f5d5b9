import PorticoAPI
import XCTest

@testable import PorticoTranslate

/// `options.rateLimit` resolved for the data plane: the server configs its selector picks, the actions inline
/// or from a RateLimitClientConfig, the settings of `rateLimitSettings`; what does not resolve replaces the
/// route.
final class RateLimitTranslationTests: XCTestCase {
  private let serverConfigs = """
    apiVersion: portico.dev/v1
    kind: RateLimitServerConfig
    metadata: {name: per-user, namespace: apps, labels: {team: shop}}
    spec:
      raw:
        descriptors:
        - key: user
          rateLimit: {unit: MINUTE, requestsPerUnit: 10}
    ---
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: RateLimitServerConfig
    metadata: {name: elsewhere, namespace: other, labels: {team: shop}}
    spec: {raw: {descriptors: [{key: user, rateLimit: {unit: SECOND, requestsPerUnit: 1}}]}}
    ---
    apiVersion: portico.dev/v1
    kind: RateLimitClientConfig
    metadata: {name: by-user, namespace: apps}
    spec:
      rateLimits:
        raw:
          rateLimits:
          - actions: [{requestHeaders: {headerName: x-user, descriptorKey: user}}]
    ---

    """

  private func translation(options: String, extra: String = "") -> Translation {
    translate(
      serverConfigs + extra
        + host(
          "shop", domain: "shop.test",
          routes: """
              - name: limited
                matchers: [{uri: {prefix: /}}]
                options: \(options)
                routeAction: {destinations: [{staticDestination: {name: backend, namespace: apps}}]}
            """))
  }

  func testTheSelectorPicksConfigsInTheOptionsNamespaceAndTheRefGivesTheActions() throws {
    let result = translation(
      options:
        "{rateLimit: {ratelimitServerConfigSelector: {labels: {team: shop}}, ratelimitClientConfigRef: {name: by-user}}}"
    )
    XCTAssertEqual(result.status(.virtualHost, "apps", "shop")?.errors, [])
    let limit = try XCTUnwrap(result.routes(of: "shop.test").first?.rateLimit)
    XCTAssertEqual(limit.serverConfigs.map(\.id), ["apps/per-user"], "the option's namespace only")
    XCTAssertEqual(limit.actions.first?.actions?.first?.requestHeaders?.headerName, "x-user")
    XCTAssertEqual(limit.destinationCluster, "static:apps/backend")
    XCTAssertEqual(limit.sourceCluster, "edge")
    XCTAssertFalse(limit.denyOnFail, "fails open unless told")

    let everywhere = translation(
      options: """
        {rateLimit: {ratelimitServerConfigSelector: {namespaces: ["*"], labels: {team: shop}}, raw: {rateLimits: [{actions: [{remoteAddress: {}}]}]}}, rateLimitSettings: {denyOnFail: true, requestTimeout: 50ms}}
        """)
    let both = try XCTUnwrap(everywhere.routes(of: "shop.test").first?.rateLimit)
    XCTAssertEqual(both.serverConfigs.map(\.id), ["apps/per-user", "other/elsewhere"])
    XCTAssertTrue(both.denyOnFail)
    XCTAssertEqual(both.requestTimeout?.nanoseconds, 50_000_000)
  }

  func testASelectorThatMatchesNothingReplacesTheRoute() throws {
    let result = translation(
      options:
        "{rateLimit: {ratelimitServerConfigSelector: {labels: {team: none}}, ratelimitClientConfigRef: {name: by-user}}}"
    )
    let route = try XCTUnwrap(result.routes(of: "shop.test").first)
    XCTAssertEqual(route.directStatus, 500, "replaced: never served without its limit")
    XCTAssertNil(route.rateLimit)
    let errors = result.status(.virtualHost, "apps", "shop")?.errors ?? []
    XCTAssertEqual(errors.map(\.message), ["selects no RateLimitServerConfig"])
    XCTAssertEqual(errors.first?.path.description, "rateLimit.ratelimitServerConfigSelector")
    XCTAssertNotNil(errors.first?.location?.line)
  }

  func testAMissingClientConfigOrAConfigWithErrorsReplacesTheRoute() {
    let missing = translation(
      options: "{rateLimit: {ratelimitServerConfigSelector: {}, ratelimitClientConfigRef: {name: nowhere}}}")
    XCTAssertEqual(missing.routes(of: "shop.test").first?.directStatus, 500)
    XCTAssertEqual(
      missing.status(.virtualHost, "apps", "shop")?.errors.map(\.message),
      ["RateLimitClientConfig apps/nowhere not found"])

    let broken = """
      apiVersion: portico.dev/v1
      kind: RateLimitServerConfig
      metadata: {name: broken, namespace: apps, labels: {team: broken}}
      spec: {raw: {descriptors: [{key: a, rateLimit: {unit: FORTNIGHT, requestsPerUnit: 1}}]}}
      ---

      """
    let result = translation(
      options:
        "{rateLimit: {ratelimitServerConfigSelector: {labels: {team: broken}}, ratelimitClientConfigRef: {name: by-user}}}",
      extra: broken)
    XCTAssertEqual(result.routes(of: "shop.test").first?.directStatus, 500)
    XCTAssertTrue(
      (result.status(.virtualHost, "apps", "shop")?.errors ?? []).contains {
        $0.message.contains("RateLimitServerConfig apps/broken has errors")
      })
  }

  /// No filter sets request metadata yet: a `metadata` action is not enforced, so its routes fail closed.
  func testAMetadataActionFailsClosed() throws {
    let result = translation(
      options:
        "{rateLimit: {ratelimitServerConfigSelector: {}, raw: {rateLimits: [{actions: [{metadata: {descriptorKey: tier, metadataKey: {key: envoy.filters.http.ext_authz, path: [{key: tier}]}, defaultValue: free}}]}]}}}"
    )
    XCTAssertEqual(result.routes(of: "shop.test").first?.directStatus, 500)
    let error = try XCTUnwrap(result.status(.virtualHost, "apps", "shop")?.errors.first)
    XCTAssertEqual(error.path.description, "rateLimit.raw.rateLimits[0].actions[0].metadata")
    XCTAssertTrue(error.message.contains("not enforced"), error.message)
  }

  func testAServerRefIsAWarningPorticoCountsItself() throws {
    let result = translation(
      options: """
        {rateLimit: {ratelimitServerConfigSelector: {}, ratelimitClientConfigRef: {name: by-user}}, rateLimitSettings: {ratelimitServerRef: {name: rate-limiter}}}
        """)
    XCTAssertNotNil(result.routes(of: "shop.test").first?.rateLimit)
    let warnings = result.status(.virtualHost, "apps", "shop")?.warnings.map(\.message) ?? []
    XCTAssertTrue(warnings.contains { $0.contains("ratelimitServerRef is not used") }, "\(warnings)")
  }

  func testEachConfigGetsAStatus() {
    let result = translation(
      options: "{rateLimit: {ratelimitServerConfigSelector: {}, ratelimitClientConfigRef: {name: by-user}}}")
    XCTAssertEqual(result.status(.rateLimitServerConfig, "apps", "per-user")?.state, .accepted)
    XCTAssertEqual(result.status(.rateLimitClientConfig, "apps", "by-user")?.state, .accepted)
  }
}
