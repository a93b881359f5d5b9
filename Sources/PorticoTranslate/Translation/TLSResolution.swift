import PorticoAPI

/// Resolves a connection handler's `sslConfig` into what the gateway terminates (spec §1.1, §11.10):
/// the Secret is looked up in the gateway's own namespace and must hold a certificate and key, and a
/// CA when clients are verified.
extension GatewayTranslator {
  mutating func tlsTermination(
    _ ssl: SSLConfig, of virtualGateway: Resource<VirtualGatewaySpec>, at path: FieldPath
  ) -> TLSTermination? {
    let mode: TLSTermination.Mode
    switch ssl.tlsMode {
    case .simple: mode = .simple
    case .mutual: mode = .mutual
    case .passthrough:
      return nil  // An http handler cannot pass TLS through; validation has reported it.
    case .autoPassthrough, .istioMutual:
      report(
        .warning, on: virtualGateway.id, virtualGateway.source, path.appending("tlsMode"),
        "tlsMode \(ssl.tlsMode!.rawValue) is not supported by the gateway yet; this handler is not served")
      return nil
    case nil:
      return nil  // Validation has reported it.
    }
    let material: TLSTermination.Material
    if let secretName = ssl.secretName {
      let wanted = ResourceID(.secret, namespace: gateway.namespace, name: secretName)
      guard let secret = index.snapshot.secrets.first(where: { $0.id == wanted }) else {
        report(
          .error, on: virtualGateway.id, virtualGateway.source, path.appending("secretName"),
          "secret \(gateway.namespace)/\(secretName) not found (TLS secrets are looked up in the gateway's namespace)"
        )
        return nil
      }
      var missing = ["tls.crt", "tls.key"].filter { secret.spec.value(for: $0) == nil }
      if mode == .mutual, secret.spec.value(for: "ca.crt") == nil { missing.append("ca.crt") }
      guard missing.isEmpty else {
        report(
          .error, on: virtualGateway.id, virtualGateway.source, path.appending("secretName"),
          "secret \(wanted.qualifiedName) has no \(missing.joined(separator: ", "))"
            + (mode == .mutual ? " (MUTUAL needs ca.crt to verify clients)" : ""))
        return nil
      }
      material = .secret(wanted, secret.spec)
    } else if let files = ssl.sslFiles {
      guard let certificate = files.tlsCert, let key = files.tlsKey else {
        report(
          .error, on: virtualGateway.id, virtualGateway.source, path.appending("sslFiles"),
          "sslFiles needs tlsCert and tlsKey")
        return nil
      }
      guard mode == .simple || files.rootCa != nil else {
        report(
          .error, on: virtualGateway.id, virtualGateway.source, path.appending("sslFiles"),
          "tlsMode MUTUAL needs sslFiles.rootCa to verify clients")
        return nil
      }
      material = .files(certificateChain: certificate, privateKey: key, rootCA: files.rootCa)
    } else {
      return nil  // Validation has reported it.
    }
    if let minimum = ssl.parameters?.minimumProtocolVersion,
      let maximum = ssl.parameters?.maximumProtocolVersion,
      minimum != .auto, maximum != .auto, minimum.order > maximum.order
    {
      report(
        .error, on: virtualGateway.id, virtualGateway.source, path.appending("parameters"),
        "minimumProtocolVersion \(minimum.rawValue) is above maximumProtocolVersion \(maximum.rawValue)")
      return nil
    }
    return TLSTermination(
      mode: mode, material: material, verifySubjectAltNames: ssl.verifySubjectAltName ?? [],
      minimumVersion: ssl.parameters?.minimumProtocolVersion,
      maximumVersion: ssl.parameters?.maximumProtocolVersion,
      cipherSuites: ssl.parameters?.cipherSuites ?? [],
      location: virtualGateway.source.location(of: path))
  }
}

extension SSLConfig.ProtocolVersion {
  /// Older versions first; `TLS_AUTO` imposes nothing.
  var order: Int {
    switch self {
    case .auto: 0
    case .tls10: 10
    case .tls11: 11
    case .tls12: 12
    case .tls13: 13
    }
  }
}
