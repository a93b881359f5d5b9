import XCTest

@testable import PorticoAPI

/// AuthConfigs as they load: Gloo's manifests decode unchanged; modes not enforced yet, broken boolean
/// expressions and malformed hashes are reported with file, line and field.
final class AuthConfigValidationTests: XCTestCase {
  private func authConfig(_ spec: String, group: String = "enterprise.gloo.solo.io/v1") -> String {
    """
    apiVersion: \(group)
    kind: AuthConfig
    metadata: {name: auth, namespace: apps}
    spec:
    \(spec)
    """
  }

  func testGlooShapedConfigsLoad() throws {
    let snapshot = load(
      authConfig(
        """
          configs:
          - name: keys
            apiKeyAuth:
              headerName: x-api-key
              labelSelector: {team: infra}
              headersFromMetadata: {x-user-email: {name: email, required: true}}
          - name: staff
            basicAuth: {realm: gloo, apr: {users: {user: {salt: TYiryv0/, hashedPassword: 8BvzLUO9IfGPGGsPnAgSu1}}}}
          booleanExpr: keys || staff
        """))
    XCTAssertEqual(snapshot.errors.map(\.description), [])
    let spec = try XCTUnwrap(snapshot.authConfigs.first?.spec)
    XCTAssertEqual(spec.configs?.map(\.modes), [["apiKeyAuth"], ["basicAuth"]])
    XCTAssertEqual(spec.configs?.first?.apiKeyAuth?.headersFromMetadata?["x-user-email"]?.required, true)
    XCTAssertEqual(
      load(authConfig("  configs: [{basicAuth: {apr: {users: {}}}}]", group: "portico.dev/v1")).errors.count,
      0)
  }

  func testModesNotEnforcedYetFailClosedOnTheirField() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - pluginAuth: {name: custom}
          - opaAuth: {modules: [], query: " ", options: {returnDecisionReason: true}}
          - jwt: {providers: {remote: {jwks: {remote: {url: "ldap://idp.test/keys", cacheDuration: 0s}}}}}
        """), file: "auth.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.configs[0].pluginAuth", "spec.configs[1].opaAuth.modules", "spec.configs[1].opaAuth.query",
        "spec.configs[1].opaAuth.options.returnDecisionReason",
        "spec.configs[2].jwt.providers.remote.jwks.remote.url",
        "spec.configs[2].jwt.providers.remote.jwks.remote.cacheDuration",
      ])
    XCTAssertEqual(snapshot.errors.first?.location?.file, "auth.yaml")
    XCTAssertEqual(snapshot.errors.first?.location?.line, 6)
    XCTAssertTrue(snapshot.errors[0].message.contains("not enforced by this version of Portico"))
  }

  func testOAuth2NeedsURLsPathsAndRefusesWhatItDoesNotEnforce() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - oauth2:
              oidcAuthorizationCode:
                appUrl: https://shop.example.com
                callbackPath: /callback
                clientId: shop
                clientSecretRef: {name: shop-client}
                issuerUrl: https://idp.example.com/
                scopes: [email]
                logoutPath: /logout
                session: {cipherConfig: {keyRef: {name: session-key}}, cookieOptions: {sameSite: LaxMode}}
                headers: {idTokenHeader: x-id-token}
          - oauth2:
              oidcAuthorizationCode:
                appUrl: shop.example.com
                callbackPath: callback
                clientId: shop
                issuerUrl: https://idp.example.com
                session: {redis: {options: {host: "redis:6379", db: 2}}, cookieOptions: {sameSite: Loose}}
                headers: {idTokenHeader: "bad header"}
          - oauth2:
              accessTokenValidation:
                introspectionUrl: https://idp.example.com/introspect
                userinfoUrl: https://idp.example.com/userinfo
                requiredScopes: {scope: [orders]}
          - oauth2: {accessTokenValidation: {jwt: {issuer: https://idp.example.com}}}
          - oauth2: {accessTokenValidation: {jwt: {remoteJwks: {url: https://idp.example.com/keys}}, cacheTimeout: 30s}}
          - oauth2: {oidcAuthorizationCode: {appUrl: https://shop.example.com/app, clientId: shop, issuerUrl: https://idp.example.com}}
        """), file: "auth.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.configs[1].oauth2.oidcAuthorizationCode.appUrl",
        "spec.configs[1].oauth2.oidcAuthorizationCode.callbackPath",
        "spec.configs[1].oauth2.oidcAuthorizationCode.session.redis.options.db",
        "spec.configs[1].oauth2.oidcAuthorizationCode.session.cookieOptions.sameSite",
        "spec.configs[1].oauth2.oidcAuthorizationCode.headers.idTokenHeader",
        "spec.configs[2].oauth2.accessTokenValidation.userinfoUrl",
        "spec.configs[3].oauth2.accessTokenValidation.jwt",
        "spec.configs[5].oauth2.oidcAuthorizationCode.appUrl",
      ])
    XCTAssertTrue(snapshot.errors[2].message.contains("only database 0"))
  }

  func testGlooJWTOptionNeedsProvidersOrDisable() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: VirtualHost
      metadata: {name: api, namespace: apps}
      spec:
        domains: [api.test]
        options:
          trafficPolicy:
            jwt: {providers: {idp: {jwks: {local: {key: "not keys"}}}}}
        routes:
        - matchers: [{uri: {prefix: /a}}]
          options: {jwt: {disable: true, providers: {}}}
          directResponseAction: {status: 200}
        - matchers: [{uri: {prefix: /b}}]
          options: {jwt: {}}
          directResponseAction: {status: 200}
      """)
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.options.trafficPolicy.jwt.providers.idp.jwks.local.key", "spec.routes[0].options.jwt",
        "spec.routes[1].options.jwt",
      ])
  }

  func testBasicUsersMayHoldBCryptHashesOfABoundedCost() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - basicAuth:
              apr:
                users:
                  erin: {hashedPassword: "$2y$10$tXC0l74UJzdXTfEF0jhE0exWkPe0pTXzCBx58NltiUBpRteaFUoJ."}
                  fay: {hashedPassword: "$2b$15$tXC0l74UJzdXTfEF0jhE0exWkPe0pTXzCBx58NltiUBpRteaFUoJ."}
                  gus: {hashedPassword: "$2b$10$short"}
                  hal: {hashedPassword: 5CkRcqhZ6Ul0mrX7a5bep/}
        """))
    XCTAssertEqual(
      snapshot.errors.map(\.path.description).sorted(),
      [
        "spec.configs[0].basicAuth.apr.users.fay.hashedPassword",
        "spec.configs[0].basicAuth.apr.users.gus.hashedPassword",
        "spec.configs[0].basicAuth.apr.users.hal.salt",
      ])
  }

  func testLDAPNeedsAnAddressATemplateWithOnePlaceholderAndGroups() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - ldap: {address: "ldap.example.org:389", userDnTemplate: "uid=%s,ou=people", allowedGroups: [cn=devs]}
          - ldap: {address: "http://ldap.example.org", userDnTemplate: "uid=%s,cn=%s"}
          - ldap: {address: "ldaps://ldap.example.org", userDnTemplate: "uid=alice", disableGroupChecking: true}
          - ldap: {address: "ldap.example.org", userDnTemplate: "uid=%s", allowedGroups: [cn=devs,dc=example,dc=org]}
        """), file: "auth.yaml")
    XCTAssertEqual(snapshot.warnings.map(\.path.description), ["spec.configs[3].ldap.allowedGroups"])
    XCTAssertEqual(
      snapshot.errors.map(\.path.description).sorted(),
      [
        "spec.configs[1].ldap.address", "spec.configs[1].ldap.allowedGroups",
        "spec.configs[1].ldap.userDnTemplate", "spec.configs[2].ldap.userDnTemplate",
      ])
    XCTAssertEqual(LDAPAddress("ldap.example.org")?.uri, "ldap://ldap.example.org:389")
    XCTAssertEqual(LDAPAddress("ldaps://ldap.example.org")?.uri, "ldaps://ldap.example.org:636")
    XCTAssertEqual(LDAPAddress("10.0.0.5:1389")?.uri, "ldap://10.0.0.5:1389")
    XCTAssertNil(LDAPAddress("ldap://ldap.example.org/dc=example"))
  }

  func testPassThroughNeedsAServiceAndRefusesWhatItDoesNotSend() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - passThroughAuth: {grpc: {address: "ext-authz:9001", connectionTimeout: 3s}}
          - passThroughAuth: {http: {url: "ftp://auth.test/check"}}
          - passThroughAuth:
              http:
                url: http://auth.test/check
                request: {allowedHeaders: ["bad header"], passThroughBody: true}
                response: {allowedClientHeadersOnDenied: [www-authenticate]}
          - passThroughAuth: {failureModeAllow: true, http: {url: "https://auth.test:8443/check"}}
        """), file: "auth.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.configs[0].passThroughAuth.grpc.connectionTimeout", "spec.configs[1].passThroughAuth.http.url",
        "spec.configs[2].passThroughAuth.http.request.allowedHeaders",
        "spec.configs[2].passThroughAuth.http.request.passThroughBody",
      ])
    XCTAssertTrue(snapshot.errors[0].message.contains("not enforced by this version of Portico"))
    XCTAssertEqual(snapshot.errors[1].location?.line, 7)
  }

  func testPassThroughOverGRPCNeedsHostAndPortAndOneTransport() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - passThroughAuth: {grpc: {address: "ext-authz:9001"}}
          - passThroughAuth: {grpc: {address: "[::1]:9001"}}
          - passThroughAuth: {grpc: {address: "ext-authz"}}
          - passThroughAuth: {grpc: {address: "ext-authz:99999"}}
          - passThroughAuth: {grpc: {address: "ext-authz:9001"}, http: {url: "http://auth.test/check"}}
          - passThroughAuth: {grpc: {address: "ext-authz:9001", tlsConfig: {secretRef: {name: tls}}}}
          - passThroughAuth: {}
        """), file: "auth.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.configs[2].passThroughAuth.grpc.address", "spec.configs[3].passThroughAuth.grpc.address",
        "spec.configs[4].passThroughAuth", "spec.configs[5].passThroughAuth.grpc.tlsConfig",
        "spec.configs[6].passThroughAuth",
      ])
    XCTAssertEqual(snapshot.errors[0].location?.line, 8)
    XCTAssertEqual(GRPCAddress("[::1]:9001")?.host, "::1")
    XCTAssertNil(GRPCAddress("::1:9001"), "an IPv6 address needs its brackets")
  }

  func testEachStepHasOneModeAndTheExpressionNamesSteps() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - {name: a, apiKeyAuth: {apiKeySecretRefs: [{name: k}]}, basicAuth: {apr: {users: {}}}}
          - {name: a, apiKeyAuth: {}}
          - {name: "b c", basicAuth: {apr: {users: {"x:y": {salt: "toolongsalt", hashedPassword: short}}}}}
          booleanExpr: (a || missing
        """))
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.configs[0]", "spec.configs[1].name", "spec.configs[1].apiKeyAuth", "spec.configs[2].name",
        "spec.configs[2].basicAuth.apr.users.x:y", "spec.configs[2].basicAuth.apr.users.x:y.salt",
        "spec.configs[2].basicAuth.apr.users.x:y.hashedPassword", "spec.booleanExpr",
      ])
    let unknownName = load(
      authConfig("  configs: [{name: a, basicAuth: {apr: {users: {}}}}]\n  booleanExpr: a && !b"))
    XCTAssertEqual(unknownName.errors.map(\.message), ["'b' names no step of this AuthConfig"])
    let empty = load(authConfig("  configs: []"))
    XCTAssertEqual(empty.errors.map(\.path.description), ["spec.configs"])
  }

  func testJWTProvidersNeedKeysOfAKnownShape() {
    let snapshot = load(
      authConfig(
        """
          configs:
          - jwt:
              validationPolicy: SOMETIMES
              providers:
                none: {jwks: {}}
                garbage: {jwks: {local: {key: "not keys"}}}
                empty: {jwks: {local: {key: '{"keys": []}'}}}
                odd: {jwks: {local: {key: '{"keys": [{"kty": "DSA"}]}'}}}
                good: {jwks: {local: {key: '{"kty": "oct", "k": "c2VjcmV0"}'}}, claimsToHeaders: [{claim: sub, header: "bad header"}]}
        """))
    XCTAssertEqual(
      snapshot.errors.map(\.path.description),
      [
        "spec.configs[0].jwt.validationPolicy", "spec.configs[0].jwt.providers.none.jwks",
        "spec.configs[0].jwt.providers.garbage.jwks.local.key",
        "spec.configs[0].jwt.providers.empty.jwks.local.key",
        "spec.configs[0].jwt.providers.odd.jwks.local.key",
        "spec.configs[0].jwt.providers.good.claimsToHeaders[0].header",
      ], "in file order")
  }

  func testBooleanExpressionsReadAsGlooWritesThem() throws {
    let expression = try BooleanExpression(parsing: "(a || b) && !c")
    XCTAssertEqual(expression, .and(.or(.name("a"), .name("b")), .not(.name("c"))))
    XCTAssertEqual(
      try BooleanExpression(parsing: "a || b && c"), .or(.name("a"), .and(.name("b"), .name("c"))))
    XCTAssertEqual(try BooleanExpression(parsing: "!!a"), .not(.not(.name("a"))))
    let outcomes = ["a": false, "b": true, "c": false]
    XCTAssertTrue(expression.evaluate { outcomes[$0]! })
    var asked: [String] = []
    _ = try BooleanExpression(parsing: "b || a").evaluate {
      asked.append($0); return outcomes[$0]!
    }
    XCTAssertEqual(asked, ["b"], "a step runs only when the answer needs it")
    for bad in ["", "a ||", "(a", "a b", "a & b", ")", "a || || b", "!"] {
      XCTAssertThrowsError(try BooleanExpression(parsing: bad), bad)
    }
  }
}
