import Foundation
import PorticoAPI
import XCTest

/// Loading several files and folders: every error at once, duplicates, file discovery.
final class ManifestLoaderTests: XCTestCase {
  // MARK: All errors at once

  func testErrorsOfAllFilesAreReportedAtOnce() {
    let snapshot = ManifestLoader().load(files: [
      (
        name: "a.yaml",
        text: """
        apiVersion: portico.dev/v1
        kind: RouteTable
        metadata: {name: a, namespace: team}
        spec: {wieght: 1}
        """
      ),
      (name: "b.yaml", text: "apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n"),
      (
        name: "c.yaml",
        text: """
        apiVersion: portico.dev/v1
        kind: VirtualHost
        metadata: {name: c, namespace: team}
        spec:
          domains: ["a.*.com"]
          routes: [{directResponseAction: {status: 200}}]
        """
      ),
      (
        name: "d.yaml",
        text: """
        apiVersion: portico.dev/v1
        kind: RouteTable
        metadata: {name: d, namespace: team}
        spec: {weight: many}
        """
      ),
      (name: "e.yaml", text: "apiVersion: portico.dev/v1\nkind: Nonsense\nmetadata: {name: e}\n"),
      (name: "f.yaml", text: routeTableYAML(name: "f", routes: "- directResponseAction: {status: 200}")),
    ])
    let errors = snapshot.errors
    XCTAssertEqual(
      errors.map { $0.location?.file ?? "-" }, ["a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"],
      describe(errors))
    expectDiagnostic(errors, at: "spec.wieght", containing: "unknown field 'wieght'")
    XCTAssertEqual(errors.dropFirst().first?.message.contains("invalid YAML"), true)
    expectDiagnostic(errors, at: "spec.domains[0]", containing: "invalid wildcard")
    expectDiagnostic(errors, at: "spec.weight", containing: "found 'many'")
    expectDiagnostic(errors, at: "kind", containing: "unknown kind 'Nonsense'")

    // What could be loaded was loaded.
    XCTAssertEqual(snapshot.routeTables.map(\.name), ["a", "f"])
    XCTAssertEqual(snapshot.virtualHosts.map(\.name), ["c"])
    XCTAssertEqual(snapshot.broken.map(\.id.name), ["d"])
  }

  func testErrorsOfAllDocumentsOfOneFileAreReportedAtOnce() {
    let text = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: one, namespace: team}
      spec:
        routes:
        - directResponseAction: {status: 700}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: two, namespace: team}
      spec:
        routes:
        - matchers: [{uri: {regex: '(?=x)'}}]
          directResponseAction: {status: 200}
      ---
      apiVersion: portico.dev/v1
      kind: StaticDestination
      metadata: {name: three, namespace: team}
      spec: {endpoints: []}
      """
    let snapshot = load(text, file: "all.yaml")
    XCTAssertEqual(snapshot.errors.map { $0.location?.line ?? 0 }, [6, 13, 19], describe(snapshot.errors))
  }

  // MARK: Duplicates

  func testDuplicateInOneFileNamesTheFirst() {
    let text = """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata:
        name: orders
        namespace: team
      spec: {weight: 1}
      ---
      apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
      kind: RouteTable
      metadata:
        name: orders
        namespace: team
      spec: {weight: 2}
      """
    let snapshot = load(text, file: "dup.yaml")
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      ["dup.yaml:11:3: metadata.name: duplicate RouteTable team/orders; first defined at dup.yaml:4:3"])
    // The first one is kept, the second is not used.
    XCTAssertEqual(snapshot.routeTables.count, 1)
    XCTAssertEqual(snapshot.routeTables.first?.spec.weight, 1)
  }

  func testDuplicateAcrossFiles() {
    let first = routeTableYAML(name: "orders", routes: "- directResponseAction: {status: 200}")
    let second = routeTableYAML(name: "orders", routes: "- directResponseAction: {status: 204}")
    let snapshot = ManifestLoader().load(files: [
      (name: "a.yaml", text: first), (name: "b.yaml", text: second),
    ])
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      ["b.yaml:3:12: metadata.name: duplicate RouteTable team/orders; first defined at a.yaml:3:12"])
    XCTAssertEqual(snapshot.routeTables.first?.spec.routes?.first?.directResponseAction?.status, 200)
    XCTAssertEqual(snapshot.routeTables.first?.source.file, "a.yaml")
  }

  func testDefaultNamespaceCountsForDuplicates() {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Secret
      metadata: {name: s}
      stringData: {a: b}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: s, namespace: default}
      stringData: {a: c}
      """)
    expectDiagnostic(snapshot.errors, at: "metadata.name", containing: "duplicate Secret default/s")
    XCTAssertEqual(snapshot.secrets.count, 1)
  }

  func testNotDuplicates() {
    let snapshot = load(
      """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: orders, namespace: team}
      spec: {}
      ---
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: orders, namespace: other-team}
      spec: {}
      ---
      apiVersion: portico.dev/v1
      kind: VirtualHost
      metadata: {name: orders, namespace: team}
      spec: {domains: [a.example.com], routes: [{directResponseAction: {status: 200}}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: orders, namespace: team, clusterName: east}
      spec: {ports: [{port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: orders, namespace: team, clusterName: west}
      spec: {ports: [{port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: orders, namespace: team}
      spec: {ports: [{port: 80}]}
      """)
    assertNoDiagnostics(snapshot)
    XCTAssertEqual(snapshot.routeTables.count, 2)
    XCTAssertEqual(snapshot.virtualHosts.count, 1)
    XCTAssertEqual(snapshot.services.map(\.id.cluster), [nil, "east", "west"])
  }

  func testDuplicateServiceInOneCluster() {
    let snapshot = load(
      """
      apiVersion: v1
      kind: Service
      metadata: {name: orders, namespace: team, clusterName: east}
      spec: {ports: [{port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: orders, namespace: team, clusterName: east}
      spec: {ports: [{port: 81}]}
      """)
    expectDiagnostic(snapshot.errors, at: "metadata.name", containing: "duplicate Service east/team/orders")
    XCTAssertEqual(snapshot.services.map { $0.spec.ports?.first?.port }, [80])
  }

  // MARK: Folders

  func testLoadDirectory() throws {
    let root = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let manager = FileManager.default
    try manager.createDirectory(at: root.appendingPathComponent("teams"), withIntermediateDirectories: true)
    try manager.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
    func write(_ relative: String, _ text: String) throws {
      try Data(text.utf8).write(to: root.appendingPathComponent(relative))
    }
    try write(
      "teams/orders.yaml",
      """
      apiVersion: portico.dev/v1
      kind: RouteTable
      metadata: {name: orders, namespace: team}
      spec:
        colour: blue
      """)
    try write(
      "gateway.json",
      #"{"apiVersion": "portico.dev/v1", "kind": "RouteTable", "metadata": {"name": "gw", "namespace": "team"}, "spec": {}}"#
    )
    try write("upper.YML", routeTableYAML(name: "upper", routes: "- directResponseAction: {status: 200}"))
    try write(".hidden.yaml", routeTableYAML(name: "hidden", routes: "- directResponseAction: {status: 200}"))
    try write(
      ".git/inside.yaml", routeTableYAML(name: "in-git", routes: "- directResponseAction: {status: 200}"))
    try write("notes.txt", "{{{ not yaml")
    try write("README.md", "# not a manifest: [")

    let snapshot = ManifestLoader().load(directory: root.path, displayRoot: "config")
    XCTAssertEqual(snapshot.routeTables.map(\.name), ["gw", "orders", "upper"])
    XCTAssertEqual(
      snapshot.errors.map(\.description),
      ["config/teams/orders.yaml:5:3: spec.colour: unknown field 'colour' (known fields: routes, weight)"])
    XCTAssertEqual(
      snapshot.routeTables.first { $0.name == "orders" }?.source.file, "config/teams/orders.yaml")

    // A display root with a trailing slash does not double it; without one, the folder's own path is shown.
    let slashed = ManifestLoader().load(directory: root.path, displayRoot: "config/")
    XCTAssertEqual(slashed.errors.first?.location?.file, "config/teams/orders.yaml")
    let plain = ManifestLoader().load(directory: root.path)
    XCTAssertEqual(plain.errors.first?.location?.file, root.path + "/teams/orders.yaml")
  }

  func testManifestFileExtensions() {
    XCTAssertEqual(ManifestLoader.fileExtensions, ["yaml", "yml", "json"])
  }

  func testEmptyDirectory() throws {
    let root = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let snapshot = ManifestLoader().load(directory: root.path)
    assertNoDiagnostics(snapshot)
    XCTAssertTrue(snapshot.routeTables.isEmpty)
  }

  func testMissingDirectoryIsAnError() {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("portico-missing-\(UUID().uuidString)").path
    let snapshot = ManifestLoader().load(directory: path)
    XCTAssertEqual(snapshot.errors.count, 1)
    XCTAssertEqual(
      snapshot.errors.first?.message.hasPrefix("cannot read configuration folder '\(path)'"), true)
    XCTAssertNil(snapshot.errors.first?.location)
  }

  func testAFileIsNotAFolder() throws {
    let root = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let file = root.appendingPathComponent("single.yaml")
    try Data("apiVersion: v1\n".utf8).write(to: file)
    let snapshot = ManifestLoader().load(directory: file.path)
    XCTAssertEqual(snapshot.errors.first?.message.hasPrefix("cannot read configuration folder"), true)
  }
}
