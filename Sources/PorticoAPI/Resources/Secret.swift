import Foundation

/// A Kubernetes Secret's values. They never appear in descriptions, logs, status or encoded output.
public struct SecretData: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible,
  Encodable
{
  public let type: String
  private let values: [String: [UInt8]]

  public init(type: String, values: [String: [UInt8]]) {
    self.type = type
    self.values = values
  }

  public var keys: [String] { values.keys.sorted() }
  public func value(for key: String) -> [UInt8]? { values[key] }

  public var description: String { "Secret(type: \(type), keys: \(keys), values: <redacted>)" }
  public var debugDescription: String { description }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(type, forKey: .type)
    try container.encode(keys, forKey: .keys)
  }

  private enum CodingKeys: String, CodingKey { case type, keys }
}

/// The manifest shape of a Secret: `data` (base64) and `stringData`.
struct SecretManifestBody: Decodable {
  var type: String?
  var data: [String: String]?
  var stringData: [String: String]?
  var immutable: Bool?

  func secretData(reportingTo decoder: (String, String) -> Void) -> SecretData {
    var values: [String: [UInt8]] = [:]
    for (key, encoded) in data ?? [:] {
      let compact = encoded.filter { !$0.isWhitespace }
      guard let bytes = Data(base64Encoded: compact) else {
        decoder(key, "data.\(key) is not valid base64")
        continue
      }
      values[key] = Array(bytes)
    }
    for (key, text) in stringData ?? [:] { values[key] = Array(text.utf8) }
    return SecretData(type: type ?? "Opaque", values: values)
  }
}
