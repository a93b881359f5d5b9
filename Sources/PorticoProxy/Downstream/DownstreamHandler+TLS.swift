import NIOCore
import NIOSSL

/// TLS on a client connection: the handshake, the chain it chose, client certificates, and passthrough.
extension DownstreamHandler {
  /// The connection begins with a TLS handshake: until it completes, the header timeout applies.
  func tlsHandshakeStarted() {
    awaitingHandshake = true
    enter(.readingHead)
  }

  func useTLS(serverName: String?, verifiesClients: Bool, verifySubjectAltNames: [String]) {
    tls = (serverName?.lowercased(), verifiesClients, verifySubjectAltNames)
  }

  /// The client's TLS goes to an upstream unterminated: from its ClientHello on, bytes pass as they are.
  func startPassthrough(_ forward: TCPForwardRuntime, serverName: String?) {
    awaitingHandshake = false
    enter(.tunnel)
    relayIdleTimeout = forward.idleTimeout
    let relay = TCPRelay(downstream: self, forward: forward, serverName: serverName)
    self.relay = relay
    relay.start()
  }

  /// With `verifySubjectAltName`, the client's (already verified) certificate must name one of them.
  func clientCertificateIsAccepted(context: ChannelHandlerContext) -> Bool {
    guard let wanted = tls?.verifySubjectAltNames, !wanted.isEmpty else { return true }
    guard let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
      let certificate = handler.peerCertificate
    else { return false }
    for name in certificate._subjectAlternativeNames() where name.nameType != .ipAddress {
      let text = name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
      if wanted.contains(text) { return true }
    }
    return false
  }
}
