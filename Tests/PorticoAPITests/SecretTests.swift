import Foundation
import PorticoAPI
import XCTest

/// Kubernetes-shaped Secrets (§11.10): base64 `data`, `stringData`, and values that never show.
final class SecretTests: XCTestCase {
  static let secretYAML = """
    apiVersion: v1
    kind: Secret
    metadata: {name: edge-cert, namespace: gw, labels: {use: tls}}
    type: kubernetes.io/tls
    data:
      tls.crt: aGVsbG8gY2VydA==
      tls.key: |
        c3VwZXIt
        c2VjcmV0LWtleQ==
    stringData:
      password: hunter2-plain
    """

  private func loadSecret() throws -> Resource<SecretData> {
    let snapshot = load(Self.secretYAML, file: "secret.yaml")
    assertNoDiagnostics(snapshot)
    return try XCTUnwrap(snapshot.secrets.first)
  }

  func testDataAndStringDataDecode() throws {
    let secret = try loadSecret()
    XCTAssertEqual(secret.id, ResourceID(.secret, namespace: "gw", name: "edge-cert"))
    XCTAssertEqual(secret.labels, ["use": "tls"])
    XCTAssertEqual(secret.spec.type, "kubernetes.io/tls")
    XCTAssertEqual(secret.spec.keys, ["password", "tls.crt", "tls.key"])
    XCTAssertEqual(secret.spec.value(for: "tls.crt"), Array("hello cert".utf8))
    // Whitespace and line breaks inside base64 (a block scalar) are ignored.
    XCTAssertEqual(secret.spec.value(for: "tls.key"), Array("super-secret-key".utf8))
    XCTAssertEqual(secret.spec.value(for: "password"), Array("hunter2-plain".utf8))
    XCTAssertNil(secret.spec.value(for: "missing"))
  }

  func testStringDataWinsOverData() throws {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Secret
      metadata: {name: s}
      data: {token: b2xk}
      stringData: {token: new}
      """)
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.secrets.first?.spec.value(for: "token"), Array("new".utf8))
  }

  func testTypeDefaultsToOpaque() {
    let snapshot = load("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n")
    XCTAssertEqual(snapshot.secrets.first?.spec.type, "Opaque")
    XCTAssertEqual(snapshot.secrets.first?.id.namespace, "default")
  }

  func testSecretWithoutValues() {
    let snapshot = load("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nimmutable: true\n")
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.secrets.first?.spec.keys, [])
  }

  func testInvalidBase64IsAnErrorThatDoesNotQuoteTheValue() throws {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Secret
      metadata: {name: s, namespace: gw}
      data:
        good: Z29vZA==
        bad: "!!not-base64-hunter2!!"
      """,
      file: "s.yaml")
    let error = expectDiagnostic(snapshot.errors, at: "data.bad", containing: "not valid base64")
    XCTAssertEqual(error?.location?.line, 6)
    XCTAssertEqual(error?.location?.column, 3)
    XCTAssertFalse(error?.description.contains("hunter2") ?? true)
    // The secret still loads with its good values; the bad key is left out.
    let secret = try XCTUnwrap(snapshot.secrets.first)
    XCTAssertEqual(secret.spec.keys, ["good"])
    XCTAssertEqual(secret.spec.value(for: "good"), Array("good".utf8))
    XCTAssertTrue(secret.hasErrors)
  }

  func testValuesNeverAppearInDescriptions() throws {
    let secret = try loadSecret()
    let forbidden = ["hello cert", "aGVsbG8gY2VydA==", "super-secret-key", "c3VwZXIt", "hunter2-plain"]
    let renderings = [
      secret.spec.description,
      String(describing: secret.spec),
      String(reflecting: secret.spec),
      "\(secret.spec)",
      String(describing: secret),
      String(reflecting: secret),
      String(describing: [secret.spec]),
    ]
    for text in renderings {
      for value in forbidden {
        XCTAssertFalse(text.contains(value), "'\(value)' leaked in: \(text)")
      }
    }
    XCTAssertTrue(secret.spec.description.contains("<redacted>"))
    // The keys are fine to show.
    XCTAssertTrue(secret.spec.description.contains("tls.crt"))
    XCTAssertEqual(
      secret.spec.description,
      #"Secret(type: kubernetes.io/tls, keys: ["password", "tls.crt", "tls.key"], values: <redacted>)"#)
  }

  func testValuesNeverAppearWhenEncoded() throws {
    let secret = try loadSecret()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(secret.spec)
    let json = String(decoding: data, as: UTF8.self)
    for value in ["hello cert", "aGVsbG8gY2VydA==", "super-secret-key", "hunter2-plain"] {
      XCTAssertFalse(json.contains(value), "'\(value)' leaked in: \(json)")
    }
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    XCTAssertEqual(Set(object.keys), ["type", "keys"])
    XCTAssertEqual(object["type"] as? String, "kubernetes.io/tls")
    XCTAssertEqual(object["keys"] as? [String], ["password", "tls.crt", "tls.key"])
  }

  func testSecretUnknownFieldsAndDecodingErrors() {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Secret
      metadata: {name: s}
      stringdata: {a: b}
      """,
      file: "s.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      [
        "s.yaml:4:1: stringdata: unknown field 'stringdata' "
          + "(known fields: apiVersion, data, immutable, kind, metadata, stringData, type)"
      ])

    let broken = load(
      """
      apiVersion: v1
      kind: Secret
      metadata: {name: s, namespace: gw}
      data: [aGVsbG8=]
      """)
    expectDiagnostic(broken.errors, at: "data", containing: "expected a mapping, found a list")
    XCTAssertTrue(broken.secrets.isEmpty)
    XCTAssertEqual(broken.broken.map(\.id), [ResourceID(.secret, namespace: "gw", name: "s")])
  }
}
