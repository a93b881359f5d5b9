import XCTest

@testable import PorticoAPI

/// RateLimitServerConfig, RateLimitClientConfig and `options.rateLimit` as they load: Gloo's manifests
/// decode unchanged, and bad ones are reported with file, line and field.
final class RateLimitValidationTests: XCTestCase {
  private func serverConfig(_ raw: String) -> String {
    """
    apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
    kind: RateLimitServerConfig
    metadata: {name: limits, namespace: apps}
    spec:
      raw:
    \(raw)
    """
  }

  func testGlooShapedConfigsLoad() throws {
    let snapshot = load(
      serverConfig(
        """
            descriptors:
            - key: generic_key
              value: counter
              rateLimit: {unit: MINUTE, requestsPerUnit: 10}
              descriptors:
              - key: user
                weight: 1
                alwaysApply: true
                rateLimit: {unit: SECOND, requestsPerUnit: 0}
            setDescriptors:
            - simpleDescriptors: [{key: type, value: Messenger}, {key: number}]
              rateLimit: {unit: HOUR, requestsPerUnit: 100}
        """)
          + """

          ---
          apiVersion: portico.dev/v1
          kind: RateLimitClientConfig
          metadata: {name: actions, namespace: apps}
          spec:
            rateLimits:
              raw:
                rateLimits:
                - actions:
                  - genericKey: {descriptorValue: counter}
                  - headerValueMatch: {descriptorValue: post, expectMatch: false, headers: [{name: ":method", exactMatch: POST}]}
                  - metadata: {descriptorKey: tier, metadataKey: {key: envoy.filters.http.ext_authz, path: [{key: tier}]}, defaultValue: free}
                - setActions: [{requestHeaders: {headerName: x-type, descriptorKey: type}}, {remoteAddress: {}}]
          """)
    XCTAssertEqual(snapshot.errors.map(\.description), [])
    let rules = try XCTUnwrap(snapshot.rateLimitServerConfigs.first?.spec.raw)
    XCTAssertEqual(rules.descriptors?.first?.descriptors?.first?.rateLimit?.requestsPerUnit, 0)
    XCTAssertEqual(rules.setDescriptors?.first?.simpleDescriptors?.last?.value, nil)
    XCTAssertEqual(snapshot.rateLimitClientConfigs.first?.spec.rateLimits?.raw?.rateLimits?.count, 2)
  }

  func testAnUnknownUnitIsReportedWhereItIsWritten() {
    let snapshot = load(
      serverConfig("        descriptors: [{key: a, rateLimit: {unit: FORTNIGHT, requestsPerUnit: 1}}]"),
      file: "limits.yaml")
    XCTAssertEqual(snapshot.errors.count, 1)
    let error = snapshot.errors.first
    XCTAssertEqual(error?.location?.file, "limits.yaml")
    XCTAssertEqual(error?.location?.line, 6)
    XCTAssertTrue(
      error?.path.description.hasSuffix("rateLimit.unit") ?? false, "\(String(describing: error))")
  }

  func testANegativeLimitIsAnError() {
    let snapshot = load(
      serverConfig("        descriptors: [{key: a, rateLimit: {unit: SECOND, requestsPerUnit: -1}}]"))
    XCTAssertTrue(
      snapshot.errors.contains { $0.path.description.hasSuffix("requestsPerUnit") },
      "\(snapshot.errors.map(\.description))")
  }

  func testTheSameKeyTwiceAtOneLevelIsAnError() {
    let snapshot = load(
      serverConfig(
        """
            descriptors:
            - {key: user, rateLimit: {unit: SECOND, requestsPerUnit: 1}}
            - {key: user, value: alice, rateLimit: {unit: SECOND, requestsPerUnit: 5}}
            - {key: user, rateLimit: {unit: MINUTE, requestsPerUnit: 9}}
            setDescriptors:
            - simpleDescriptors: [{key: type}, {key: type, value: a}]
              rateLimit: {unit: SECOND, requestsPerUnit: 1}
        """))
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      ["spec.raw.descriptors[2].key", "spec.raw.setDescriptors[0].simpleDescriptors[1].key"])
    XCTAssertTrue(snapshot.errors[0].message.contains("'user' is already at this level (entry 0)"))
  }

  func testARouteOptionNeedsASelectorAndOneSourceOfActions() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: VirtualHost
      metadata: {name: shop, namespace: apps}
      spec:
        domains: [shop.test]
        routes:
        - options: {rateLimit: {raw: {rateLimits: [{actions: [{genericKey: {descriptorValue: a}, remoteAddress: {}}]}]}}}
          directResponseAction: {status: 200}
      """)
    XCTAssertEqual(
      snapshot.errors.map(\.path.description).sorted(),
      [
        "spec.routes[0].options.rateLimit.ratelimitServerConfigSelector",
        "spec.routes[0].options.rateLimit.raw.rateLimits[0].actions[0]",
      ])
  }
}
