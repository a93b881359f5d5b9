/// Where a gateway keeps the counters every gateway shares: one Redis (`redis://HOST:PORT`) or a Redis
/// Cluster (`redis-cluster://HOST:PORT,HOST:PORT,...`, any of its nodes; the rest are found from them).
public struct RedisStoreConfiguration: Sendable, Hashable, CustomStringConvertible {
  public enum Mode: Sendable, Hashable {
    case single
    case cluster
  }

  public let mode: Mode
  public let seeds: [String]

  public init(url: String) throws(RedisError) {
    let (mode, rest): (Mode, Substring) =
      if url.hasPrefix("redis://") {
        (.single, url.dropFirst("redis://".count))
      } else if url.hasPrefix("redis-cluster://") {
        (.cluster, url.dropFirst("redis-cluster://".count))
      } else {
        throw .badAddress(url)
      }
    let seeds = rest.split(separator: ",").map { String($0).trimmingSuffix("/") }
    guard !seeds.isEmpty, seeds.allSatisfy({ RedisAddress.split($0) != nil }),
      mode == .cluster || seeds.count == 1
    else { throw .badAddress(url) }
    self.mode = mode
    self.seeds = seeds
  }

  public var description: String {
    (mode == .single ? "redis://" : "redis-cluster://") + seeds.joined(separator: ",")
  }
}

extension String {
  fileprivate func trimmingSuffix(_ suffix: String) -> String {
    hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
  }
}

/// Redis Cluster's key slots: CRC16 (XMODEM) of the key, or of its hash tag (`{...}`), modulo 16384.
enum RedisSlot {
  static let count = 16_384

  static func of(_ key: String) -> Int {
    var bytes = Array(key.utf8)
    if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
      let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
    {
      bytes = Array(bytes[(open + 1)..<close])
    }
    var crc: UInt16 = 0
    for byte in bytes {
      crc ^= UInt16(byte) << 8
      for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
    }
    return Int(crc) % count
  }
}
