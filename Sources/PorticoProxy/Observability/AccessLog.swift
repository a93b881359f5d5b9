import Foundation

/// One JSON line per request, written off the event loops.
public final class AccessLog: Sendable {
  public enum Destination: Sendable {
    case standardOutput
    case file(String)
    case disabled
  }

  private let queue = DispatchQueue(label: "portico.access-log")
  private let handle: FileHandle?

  public init(_ destination: Destination) throws {
    switch destination {
    case .standardOutput:
      handle = FileHandle.standardOutput
    case .file(let path):
      if !FileManager.default.fileExists(atPath: path) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
      }
      guard let file = FileHandle(forWritingAtPath: path) else {
        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
      }
      file.seekToEndOfFile()
      handle = file
    case .disabled:
      handle = nil
    }
  }

  var isEnabled: Bool { handle != nil }

  func write(_ record: AccessRecord) {
    guard let handle else { return }
    // Formatting happens on the writer's queue: off the event loops, and one formatter user at a time.
    queue.async { handle.write(Data(record.jsonLine().utf8)) }
  }

  /// Waits until every line written so far has reached the file.
  public func flush() { queue.sync {} }
}

/// What the access log says about one request.
struct AccessRecord: Sendable {
  var time: Date
  var method: String
  var authority: String
  var path: String
  var status: Int
  var bytesIn: Int
  var bytesOut: Int
  var durationMilliseconds: Double
  var upstreamAddress: String?
  var upstreamMilliseconds: Double?
  var route: String?
  var flags: [ResponseFlag]
  var requestID: String

  func jsonLine() -> String {
    var fields: [String] = []
    func add(_ key: String, _ value: String) { fields.append("\"\(key)\":\(JSONText.quoted(value))") }
    func add(_ key: String, number: String) { fields.append("\"\(key)\":\(number)") }
    add("time", ISO8601DateFormatter.shared.string(from: time))
    add("method", method)
    add("authority", authority)
    add("path", path)
    add("status", number: String(status))
    add("bytes_in", number: String(bytesIn))
    add("bytes_out", number: String(bytesOut))
    add("duration_ms", number: String(format: "%.3f", durationMilliseconds))
    if let upstreamAddress { add("upstream", upstreamAddress) }
    if let upstreamMilliseconds { add("upstream_ms", number: String(format: "%.3f", upstreamMilliseconds)) }
    if let route { add("route", route) }
    add("flags", flags.isEmpty ? "-" : flags.map(\.rawValue).joined(separator: ","))
    add("request_id", requestID)
    return "{" + fields.joined(separator: ",") + "}\n"
  }
}

/// Why a request did not simply go through, in Envoy's vocabulary.
enum ResponseFlag: String, Sendable {
  /// No virtual host serves the authority.
  case noHost = "NH"
  /// No route of the host matched.
  case noRoute = "NR"
  /// Connecting upstream failed.
  case upstreamConnectFailure = "UF"
  /// The upstream did not answer in time.
  case upstreamTimeout = "UT"
  /// No endpoint left to try (none configured, or all ejected).
  case noHealthyUpstream = "UH"
  /// The upstream connection closed before the response ended.
  case upstreamReset = "UC"
  /// The pool's pending-request limit was reached.
  case upstreamOverflow = "UO"
  /// The client went away first.
  case downstreamReset = "DC"
  /// The route stands in for broken configuration.
  case invalidRoute = "IR"
  /// `faultInjection` delayed the request.
  case delayInjected = "DI"
  /// `faultInjection` answered instead of the upstream.
  case faultInjected = "FI"
  /// The request was retried as often as its route allows, or the retry budget was spent.
  case retryLimitExceeded = "URX"
  /// The client's request broke HTTP/1.1's rules and was refused.
  case downstreamProtocolError = "DPE"
  /// The upstream's response broke HTTP/1.1's rules.
  case upstreamProtocolError = "UPE"
}

enum JSONText {
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

extension ISO8601DateFormatter {
  /// Used only on the access log's serial queue.
  nonisolated(unsafe) static let shared: ISO8601DateFormatter = {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter
  }()
}
