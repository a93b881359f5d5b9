import NIOSSL
import PorticoRouting
import PorticoTranslate

/// One server-name chain of a TLS listener, ready to serve: the server names it answers for, and either the
/// TLS it terminates (with the router of its virtual hosts) or the upstreams it passes TLS through to.
final class TLSChainRuntime: Sendable {
  enum Mode: Sendable {
    case terminate(Termination)
    case passthrough(TCPForwardRuntime)
  }

  /// TLS the gateway terminates.
  struct Termination: Sendable {
    let context: NIOSSLContext
    let router: CompiledRouter
    /// Clients must present a certificate (MUTUAL).
    let verifiesClients: Bool
    /// Client certificates must carry one of these names (empty: any verified certificate).
    let verifySubjectAltNames: [String]
  }

  /// Lowercased; `*.example.com` matches one or more labels before `.example.com`. Empty: any name.
  let serverNames: [String]
  let mode: Mode

  init(serverNames: [String], mode: Mode) {
    self.serverNames = serverNames
    self.mode = mode
  }

  /// Set for a chain that terminates TLS.
  var termination: Termination? {
    if case .terminate(let termination) = mode { return termination }
    return nil
  }
}

extension [TLSChainRuntime] {
  /// The chain for a client's SNI name: an exact name first, then the longest matching wildcard, then a
  /// chain without server names.
  func chain(forServerName serverName: String?) -> TLSChainRuntime? {
    if let name = serverName?.lowercased() {
      if let exact = first(where: { $0.serverNames.contains(name) }) { return exact }
      var best: (chain: TLSChainRuntime, length: Int)?
      for chain in self {
        for pattern in chain.serverNames where pattern.hasPrefix("*.") {
          let suffix = pattern.dropFirst()
          if name.count > suffix.count, name.hasSuffix(suffix), suffix.count > (best?.length ?? 0) {
            best = (chain, suffix.count)
          }
        }
      }
      if let best { return best.chain }
    }
    return first { $0.serverNames.isEmpty }
  }
}
