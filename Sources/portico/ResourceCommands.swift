import ArgumentParser
import Foundation
import PorticoManagement

struct Apply: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Create or update the manifests of a file or folder on the management plane.")

  @Option(name: .shortAndLong, help: "A manifest file or a folder of them. Repeatable.")
  var filename: [String]

  @OptionGroup var plane: PlaneFlags

  func run() async throws {
    let client = try plane.client()
    var failed = false
    for document in try documents() {
      let snapshot = ManifestLoader().load(documents: [document])
      guard let id = snapshot.resourceIDs.first else {
        // Not even a kind and a name: nothing to address on the plane. Show why, as the plane would.
        for diagnostic in snapshot.allDiagnostics where diagnostic.isError { printError("\(diagnostic)") }
        failed = true
        continue
      }
      let answer = try await client.send(
        .PUT, KindCatalog.path(id), body: document.text,
        headers: [("x-portico-source", document.source), ("x-portico-line", String(document.firstLine))])
      let label = "\(id.kind.rawValue.lowercased())/\(id.name)"
      switch answer.status.code {
      case 201: print("\(label) created")
      case 200: print("\(label) configured")
      default:
        failed = true
        printError("\(label): refused (\(answer.status.code)):\n\(answer.message)")
      }
    }
    if failed { throw ExitCode(1) }
  }

  private func documents() throws -> [ManifestDocument] {
    var documents: [ManifestDocument] = []
    for path in filename {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ValidationError("no such file or folder: \(path)")
      }
      let files =
        isDirectory.boolValue
        ? try ManifestLoader.manifestFiles(under: URL(fileURLWithPath: path)).map {
          (path.hasSuffix("/") ? path : path + "/") + $0
        } : [path]
      for file in files {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        documents += DocumentSplitter.split(text, source: file)
      }
    }
    return documents
  }
}

struct Get: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List resources of a kind on the management plane, or show one with its status.")

  @Argument(help: "The kind: plural, singular or Kind, any case (virtualhosts, virtualhost, VirtualHost).")
  var kind: String

  @Argument(help: "A resource's name; all of the kind without it.")
  var name: String?

  @Option(
    name: .shortAndLong, help: "The namespace (default: every namespace for a list, 'default' for one).")
  var namespace: String?

  @Option(name: .shortAndLong, help: "table, yaml or json.")
  var output: String = "table"

  @Option(help: "The cluster of a Service or Endpoints (as its agent reported it).")
  var cluster: String?

  @OptionGroup var plane: PlaneFlags

  func run() async throws {
    guard let resourceKind = KindCatalog.kind(named: kind) else {
      throw ValidationError("unknown kind '\(kind)'")
    }
    let client = try plane.client()
    let path: String
    if let name {
      path = KindCatalog.path(
        ResourceID(resourceKind, namespace: namespace ?? ObjectMeta.defaultNamespace, name: name))
    } else if let namespace {
      path = KindCatalog.collectionPath(resourceKind, namespace: namespace)
    } else {
      path = KindCatalog.collectionPath(resourceKind, namespace: "-").replacingOccurrences(
        of: "/namespaces/-", with: "")
    }
    let answer = try await client.send(.GET, path)
    guard answer.status == .ok, let json = answer.json else {
      printError(answer.message)
      throw ExitCode(1)
    }
    switch output {
    case "json":
      let data = try JSONSerialization.data(
        withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
      print(String(decoding: data, as: UTF8.self))
    case "yaml":
      print(YAMLWriter.document(json), terminator: "")
    default:
      let items =
        name == nil
        ? (json as? [String: Any])?["items"] as? [[String: Any]] ?? [] : [json as? [String: Any] ?? [:]]
      print(table(items))
    }
  }

  private func table(_ items: [[String: Any]]) -> String {
    var rows = [["NAMESPACE", "NAME", "GENERATION", "RESOURCEVERSION", "STATE"]]
    for item in items {
      let metadata = item["metadata"] as? [String: Any] ?? [:]
      let status = item["status"] as? [String: Any]
      rows.append([
        metadata["namespace"] as? String ?? "", metadata["name"] as? String ?? "",
        "\(metadata["generation"] ?? "")", "\(metadata["resourceVersion"] ?? "")",
        status?["state"] as? String ?? "",
      ])
    }
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { $1.padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined()
        .trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }
}

struct Delete: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Delete a resource from the management plane.")

  @Argument(help: "The kind: plural, singular or Kind, any case.")
  var kind: String

  @Argument(help: "The resource's name.")
  var name: String

  @Option(name: .shortAndLong, help: "The namespace.")
  var namespace: String = ObjectMeta.defaultNamespace

  @Option(help: "The cluster of a Service or Endpoints.")
  var cluster: String?

  @OptionGroup var plane: PlaneFlags

  func run() async throws {
    guard let resourceKind = KindCatalog.kind(named: kind) else {
      throw ValidationError("unknown kind '\(kind)'")
    }
    let answer = try await plane.client().send(
      .DELETE, KindCatalog.path(ResourceID(resourceKind, namespace: namespace, name: name, cluster: cluster)))
    guard answer.status == .ok else {
      printError(answer.message)
      throw ExitCode(1)
    }
    print("\(resourceKind.rawValue.lowercased())/\(name) deleted")
  }
}

struct Status: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Show each gateway the plane knows (its cluster, whether it is connected, what it runs) and each cluster's agent (its last report and the health of its endpoints)."
  )

  @Option(name: .shortAndLong, help: "text or json.")
  var output: OutputFormat = .text

  @OptionGroup var plane: PlaneFlags

  func run() async throws {
    let client = try plane.client()
    let answer = try await client.send(.GET, "/relay/v1/gateways")
    let clusters = try await client.send(.GET, "/relay/v1/clusters")
    guard answer.status == .ok, var json = answer.json as? [String: Any],
      let agents = (clusters.json as? [String: Any])?["clusters"] as? [[String: Any]]
    else {
      printError(answer.status == .ok ? clusters.message : answer.message)
      throw ExitCode(1)
    }
    if output == .json {
      json["clusters"] = agents
      let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
      print(String(decoding: data, as: UTF8.self))
      return
    }
    let latest = json["generation"] as? Int ?? 0
    print("plane generation \(latest)")
    for gateway in json["gateways"] as? [[String: Any]] ?? [] {
      let connected = gateway["connected"] as? Bool == true ? "connected" : "disconnected"
      let generation = gateway["generation"] as? Int ?? 0
      var line =
        "\(gateway["gateway"] ?? "")  cluster=\(gateway["cluster"] ?? "")  \(connected)  generation=\(generation)"
      if generation != latest { line += " (behind)" }
      if let error = gateway["lastError"] as? String { line += "\n  last error: \(error)" }
      print(line)
    }
    for agent in agents {
      let silent = agent["silent"] as? Bool == true
      var line =
        "cluster \(agent["cluster"] ?? "")  agent \(silent ? "SILENT" : "reporting")"
        + "  last report \(agent["secondsSinceReport"] ?? 0) s ago"
        + "  endpoints healthy=\(agent["healthy"] ?? 0) ejected=\(agent["ejected"] ?? 0)"
        + " unknown=\(agent["unknown"] ?? 0)"
      for endpoint in agent["endpoints"] as? [[String: Any]] ?? []
      where endpoint["state"] as? String == "ejected" {
        line +=
          "\n  ejected: \(endpoint["namespace"] ?? "")/\(endpoint["name"] ?? "") \(endpoint["address"] ?? ""):\(endpoint["port"] ?? "")"
      }
      print(line)
    }
  }
}

func printError(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
