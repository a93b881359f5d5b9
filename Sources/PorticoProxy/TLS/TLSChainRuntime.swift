import NIOSSL
import PorticoRouting
import PorticoTranslate

/// One filter chain that terminates TLS, ready to serve: its SSL context, the server names it answers
/// for, and the router of its virtual hosts.
final class TLSChainRuntime: Sendable {
  /// Lowercased; `*.example.com` matches one or more labels before `.example.com`. Empty: any name.
  let serverNames: [String]
  let context: NIOSSLContext
  let router: CompiledRouter
  /// Client certificates must carry one of these names (empty: any verified certificate).
  let verifySubjectAltNames: [String]

  init(serverNames: [String], context: NIOSSLContext, router: CompiledRouter, verifySubjectAltNames: [String])
  {
    self.serverNames = serverNames
    self.context = context
    self.router = router
    self.verifySubjectAltNames = verifySubjectAltNames
  }
}

extension [TLSChainRuntime] {
  /// The chain for a client's SNI name: an exact name first, then the longest matching wildcard, then a
  /// chain without server names.
  func chain(forServerName serverName: String?) -> TLSChainRuntime? {
    if let name = serverName?.asciiLowercasedName {
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

extension String {
  fileprivate var asciiLowercasedName: String { lowercased() }
}
