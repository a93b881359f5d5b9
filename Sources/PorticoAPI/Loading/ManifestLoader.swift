import Foundation

/// Reads a folder (or text) of YAML and JSON manifests into a `ResourceSnapshot`, reporting every error of
/// every file at once, each with its file, line, column and field path.
public struct ManifestLoader {
  public static let fileExtensions: Set<String> = ["yaml", "yml", "json"]

  public init() {}

  /// Loads every manifest under `directory`. Diagnostics name files as `displayRoot/relative/path`.
  public func load(directory: String, displayRoot: String? = nil) -> ResourceSnapshot {
    var snapshot = ResourceSnapshot()
    let root = URL(fileURLWithPath: directory)
    let shownRoot = displayRoot ?? directory
    let files: [String]
    do {
      files = try Self.manifestFiles(under: root)
    } catch {
      snapshot.diagnostics.append(
        Diagnostic(.error, at: nil, "cannot read configuration folder '\(directory)': \(error)"))
      return snapshot
    }
    for relative in files {
      let shown = shownRoot.hasSuffix("/") ? shownRoot + relative : shownRoot + "/" + relative
      let url = root.appendingPathComponent(relative)
      guard let data = try? Data(contentsOf: url) else {
        snapshot.diagnostics.append(Diagnostic(.error, at: nil, "cannot read '\(shown)'"))
        continue
      }
      guard let text = String(data: data, encoding: .utf8) else {
        snapshot.diagnostics.append(
          Diagnostic(.error, at: SourceLocation(file: shown, line: 1, column: 1), "file is not UTF-8"))
        continue
      }
      add(text, file: shown, to: &snapshot)
    }
    finish(&snapshot)
    return snapshot
  }

  /// Loads manifests from text, as if read from `file`.
  public func load(text: String, file: String = "<input>") -> ResourceSnapshot {
    var snapshot = ResourceSnapshot()
    add(text, file: file, to: &snapshot)
    finish(&snapshot)
    return snapshot
  }

  /// Loads several named texts as one folder.
  public func load(files: [(name: String, text: String)]) -> ResourceSnapshot {
    var snapshot = ResourceSnapshot()
    for file in files { add(file.text, file: file.name, to: &snapshot) }
    finish(&snapshot)
    return snapshot
  }

  public static func manifestFiles(under root: URL) throws -> [String] {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw CocoaError(.fileNoSuchFile)
    }
    guard let enumerator = manager.enumerator(atPath: root.path) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
      let name = (relative as NSString).lastPathComponent
      if name.hasPrefix(".") {
        enumerator.skipDescendants()
        continue
      }
      if fileExtensions.contains((relative as NSString).pathExtension.lowercased()) { files.append(relative) }
    }
    return files.sorted()
  }

  func add(_ text: String, file: String, to snapshot: inout ResourceSnapshot) {
    let (documents, failure) = YAMLComposer(file: file).read(text)
    if let failure { snapshot.diagnostics.append(Diagnostic(.error, at: failure.location, failure.message)) }
    for document in documents {
      DocumentReader(source: SourceDocument(file: file, root: document)).read(into: &snapshot)
    }
  }

  private func finish(_ snapshot: inout ResourceSnapshot) {
    Validator.validate(&snapshot)
    snapshot.rejectDuplicates()
    snapshot.sortResources()
  }
}

extension ResourceSnapshot {
  /// A second resource with the same kind, namespace and name is an error and is not used.
  mutating func rejectDuplicates() {
    var seen: [ResourceID: SourceLocation] = [:]
    func keepFirst<Spec>(_ list: inout [Resource<Spec>]) -> [Diagnostic] {
      var kept: [Resource<Spec>] = []
      var found: [Diagnostic] = []
      for resource in list {
        if let first = seen[resource.id] {
          found.append(
            resource.source.diagnostic(
              .error, ["metadata", "name"], "duplicate \(resource.id); first defined at \(first)"))
        } else {
          seen[resource.id] = resource.source.location(of: ["metadata", "name"])
          kept.append(resource)
        }
      }
      list = kept
      return found
    }
    var duplicates: [Diagnostic] = []
    duplicates += keepFirst(&virtualGateways)
    duplicates += keepFirst(&virtualHosts)
    duplicates += keepFirst(&routeTables)
    duplicates += keepFirst(&trafficPolicies)
    duplicates += keepFirst(&staticDestinations)
    duplicates += keepFirst(&virtualDestinations)
    duplicates += keepFirst(&virtualMeshes)
    duplicates += keepFirst(&services)
    duplicates += keepFirst(&endpoints)
    duplicates += keepFirst(&secrets)
    duplicates += keepFirst(&configMaps)
    diagnostics += duplicates
  }
}
