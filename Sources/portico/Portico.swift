import ArgumentParser
import Foundation
import PorticoProxy

@main
struct Portico: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "portico",
    abstract: "A declarative API gateway.",
    subcommands: [
      Validate.self, Routes.self, Explain.self, GatewayCommand.self, Run.self, DemoUpstreamCommand.self,
      Mgmt.self, AgentCommand.self, Apply.self, Get.self, Delete.self, Status.self,
    ])
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text
  case json
}

/// The gateway identity flags besides its name: namespace, cluster, labels and named ports.
struct GatewayIdentityDetails: ParsableArguments {
  @Option(help: "The gateway's namespace.")
  var namespace: String = ObjectMeta.defaultNamespace

  @Option(help: "The gateway's cluster.")
  var cluster: String = GatewayIdentity.defaultCluster

  @Option(name: .customLong("label"), help: "A gateway label, as key=value. Repeatable.")
  var labels: [String] = []

  @Option(name: .customLong("port"), help: "A named listen port, as name=number. Repeatable.")
  var ports: [String] = []

  @Option(help: "Where the gateway runs, as REGION or REGION/ZONE (VirtualDestinations prefer it).")
  var locality: String?

  @Option(
    name: .customLong("east-west"),
    help:
      "Open the east-west listener on this port (15443, as Istio's): other clusters reach this one's services there."
  )
  var eastWest: Int?

  func identity(name: String) throws -> GatewayIdentity {
    var identity = try makeIdentity(
      name: name, namespace: namespace, cluster: cluster, labels: labels, ports: ports)
    if let locality {
      guard let parsed = StaticDestinationSpec.Locality(parsing: locality) else {
        throw ValidationError("--locality needs REGION or REGION/ZONE, got '\(locality)'")
      }
      identity.locality = parsed
    }
    if let eastWest {
      guard (0...65535).contains(eastWest) else { throw ValidationError("--east-west needs a port number") }
      identity.eastWestPort = eastWest
      identity.ports[EastWestGateway.portName] = eastWest
    }
    return identity
  }
}

/// Flags that say which gateway a configuration is translated for; without `--gateway`, none.
struct GatewayIdentityFlags: ParsableArguments {
  @Option(name: .customLong("gateway"), help: "The gateway's name (what VirtualGateways select).")
  var name: String?

  @OptionGroup var details: GatewayIdentityDetails

  func identity() throws -> GatewayIdentity? {
    try name.map { try details.identity(name: $0) }
  }
}

/// A gateway identity from command-line values (`key=value` labels, `name=number` ports).
func makeIdentity(name: String, namespace: String, cluster: String, labels: [String], ports: [String]) throws
  -> GatewayIdentity
{
  GatewayIdentity(
    name: name, namespace: namespace, cluster: cluster, labels: try pairs(labels, "--label"),
    ports: try pairs(ports, "--port").mapValues { value in
      guard let port = Int(value), (0...65535).contains(port) else {
        throw ValidationError("--port needs name=number with a number from 0 to 65535, got '\(value)'")
      }
      return port
    })
}

private func pairs(_ items: [String], _ flag: String) throws -> [String: String] {
  var result: [String: String] = [:]
  for item in items {
    guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
      throw ValidationError("\(flag) needs key=value, got '\(item)'")
    }
    result[String(item[..<equals])] = String(item[item.index(after: equals)...])
  }
  return result
}

func loadFolder(_ directory: String) -> ResourceSnapshot {
  ManifestLoader().load(
    directory: directory, displayRoot: directory.hasSuffix("/") ? String(directory.dropLast()) : directory)
}

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decode, validate and translate a configuration folder; exit 1 on errors.")

  @Argument(help: "The configuration folder.")
  var directory: String

  @Option(name: .shortAndLong, help: "text or json.")
  var output: OutputFormat = .text

  func run() throws {
    let report = ValidationReport(snapshot: loadFolder(directory))
    print(output == .json ? report.json : report.text, terminator: "")
    if report.hasErrors { throw ExitCode(1) }
  }
}

struct Routes: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print each host's flattened routes: matchers, actions, effective options and their origin.")

  @Argument(help: "The configuration folder (not with --server).")
  var directory: String?

  @OptionGroup var gateway: GatewayIdentityFlags

  @OptionGroup var plane: RunningGatewayFlags

  @Option(name: .shortAndLong, help: "text or json.")
  var output: OutputFormat = .text

  func run() async throws {
    let translations: [Translation]
    if let running = try await plane.runningGateway(gateway) {
      translations = [Translator().translate(running.snapshot, for: running.identity)]
    } else {
      guard let directory else {
        throw ValidationError("give a configuration folder, or --server URL --gateway NAME")
      }
      let snapshot = loadFolder(directory)
      if let identity = try gateway.identity() {
        translations = [Translator().translate(snapshot, for: identity)]
      } else {
        translations = Translator().check(snapshot).translations
      }
    }
    let report = RoutesReport(translations: translations)
    print(output == .json ? report.json : report.text, terminator: "")
  }
}

struct Explain: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show which route a request matches on a gateway, and why.")

  @Argument(
    help: ArgumentHelp(
      "DIR METHOD URL: the configuration folder, the request method (GET) and URL (http://shop.local/items); "
        + "METHOD URL with --server.", valueName: "DIR METHOD URL"))
  var words: [String]

  @OptionGroup var gateway: GatewayIdentityFlags

  @OptionGroup var plane: RunningGatewayFlags

  @Option(name: .customShort("H"), help: "A request header, as 'Name: value'. Repeatable.")
  var headers: [String] = []

  @Option(name: .shortAndLong, help: "text or json.")
  var output: OutputFormat = .text

  func run() async throws {
    let running = try await plane.runningGateway(gateway)
    guard words.count == (running == nil ? 3 : 2) else {
      throw ValidationError(
        running == nil ? "explain needs DIR METHOD URL" : "with --server, explain needs METHOD URL")
    }
    let (method, url) = (words[words.count - 2], words[words.count - 1])
    guard let identity = try running?.identity ?? gateway.identity() else {
      throw ValidationError(
        "explain needs --gateway NAME (and the gateway's --namespace, --cluster, --label)")
    }
    let parsedHeaders = try headers.map { header -> (String, String) in
      guard let colon = header.firstIndex(of: ":") else {
        throw ValidationError("-H needs 'Name: value', got '\(header)'")
      }
      return (
        String(header[..<colon]), header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      )
    }
    guard let request = PlainRequest(method: method, url: url, headers: parsedHeaders) else {
      throw ValidationError("'\(url)' is not an absolute http(s) URL")
    }
    let snapshot = running?.snapshot ?? loadFolder(words[0])
    let translation = Translator().translate(snapshot, for: identity)
    var report = ExplainReport(config: translation.config, method: method, url: url, request: request)
    report.selectionHints = ExplainReport.selectionHints(
      for: identity, config: translation.config, snapshot: snapshot)
    print(output == .json ? report.json : report.text, terminator: "")
  }
}
