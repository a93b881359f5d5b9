import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SwiftASN1
import X509

/// The plane's end of the relay: enrols gateways that hold the bootstrap token, and streams each connected
/// gateway the snapshot for its identity, one change in flight at a time, recording what it acknowledges.
struct RelayService: Portico_Relay_V1_Relay.SimpleServiceProtocol {
  let plane: ManagementPlane
  let authority: RelayAuthority
  let bootstrapToken: String
  let book: EnrollmentBook

  func enroll(request: Portico_Relay_V1_EnrollRequest, context: ServerContext) async throws
    -> Portico_Relay_V1_EnrollResponse
  {
    guard Secrets.equal(request.bootstrapToken, bootstrapToken) else {
      throw RPCError(code: .unauthenticated, message: "the bootstrap token is not valid")
    }
    guard let presented = Self.peerCertificate(context) else {
      throw RPCError(
        code: .unauthenticated, message: "enrolment needs the connection to present a certificate")
    }
    let identity = GatewayIdentity(request.identity)
    guard !identity.name.isEmpty else {
      throw RPCError(code: .invalidArgument, message: "the gateway identity has no name")
    }
    guard await !book.isRevoked(gateway: identity.displayName) else {
      throw RPCError(code: .permissionDenied, message: "gateway \(identity.displayName) is revoked")
    }
    let signingRequest: CertificateSigningRequest
    do {
      signingRequest = try CertificateSigningRequest(derEncoded: Array(request.csrDer))
    } catch {
      throw RPCError(
        code: .invalidArgument, message: "the certificate signing request does not decode: \(error)")
    }
    guard signingRequest.publicKey == presented.publicKey else {
      throw RPCError(
        code: .permissionDenied, message: "the signing request is not for the key the connection presents")
    }
    let certificate: Certificate
    do {
      certificate = try authority.issueClientCertificate(for: identity, requestDER: Array(request.csrDer))
    } catch {
      throw RPCError(code: .invalidArgument, message: "\(error)")
    }
    try await book.record(gateway: identity.displayName, serial: certificate.serialNumber.description)
    var serializer = DER.Serializer()
    try serializer.serialize(certificate)
    return .with { $0.certificateDer = Data(serializer.serializedBytes) }
  }

  func connect(
    request: RPCAsyncSequence<Portico_Relay_V1_GatewayMessage, any Error>,
    response: RPCWriter<Portico_Relay_V1_PlaneMessage>, context: ServerContext
  ) async throws {
    guard let presented = Self.peerCertificate(context), authority.issued(presented),
      let named = GatewayCertificateName.gateway(in: presented)
    else {
      throw RPCError(code: .unauthenticated, message: "the relay needs a client certificate the plane issued")
    }
    var inbound = request.makeAsyncIterator()
    guard case .hello(let hello)? = try await inbound.next()?.kind else {
      throw RPCError(code: .failedPrecondition, message: "a stream starts with hello")
    }
    let identity = GatewayIdentity(hello.identity)
    guard identity.cluster == named.cluster, identity.namespace == named.namespace,
      identity.name == named.name
    else {
      throw RPCError(
        code: .permissionDenied,
        message:
          "the certificate is for \(named.namespace)/\(named.name)@\(named.cluster), not \(identity.displayName)"
      )
    }
    guard await book.admits(gateway: identity.displayName, serial: presented.serialNumber.description) else {
      throw RPCError(
        code: .unauthenticated, message: "gateway \(identity.displayName)'s certificate is revoked or unknown"
      )
    }
    let (session, wakes) = await plane.connect(identity)
    do {
      try await stream(to: identity, from: hello, inbound: &inbound, response: response, wakes: wakes)
    } catch {
      await plane.disconnect(identity, session: session)
      throw error
    }
    await plane.disconnect(identity, session: session)
  }

  func report(request: Portico_Relay_V1_RegistryReport, context: ServerContext) async throws
    -> Portico_Relay_V1_ReportAnswer
  {
    guard let presented = Self.peerCertificate(context), authority.issued(presented),
      let named = GatewayCertificateName.gateway(in: presented),
      await book.admits(
        gateway: "\(named.namespace)/\(named.name)@\(named.cluster)",
        serial: presented.serialNumber.description)
    else {
      throw RPCError(code: .unauthenticated, message: "the relay needs a client certificate the plane issued")
    }
    guard named.cluster == request.cluster else {
      throw RPCError(
        code: .permissionDenied,
        message: "the certificate is for cluster \(named.cluster), not \(request.cluster)")
    }
    let diagnostics = await plane.report(
      cluster: request.cluster, manifests: request.manifests.map(ShippedManifest.init),
      health: request.health.map(AgentRecord.Endpoint.init),
      refreshSeconds: request.refreshSeconds > 0 ? Int(request.refreshSeconds) : 10)
    return .with { $0.diagnostics = diagnostics }
  }

  /// Sends what the gateway should run whenever it may have changed, and waits for its answer before sending
  /// more: the gateway then always holds either the last acknowledged snapshot or the one in flight.
  private func stream(
    to identity: GatewayIdentity, from hello: Portico_Relay_V1_Hello,
    inbound: inout RPCAsyncSequence<Portico_Relay_V1_GatewayMessage, any Error>.AsyncIterator,
    response: RPCWriter<Portico_Relay_V1_PlaneMessage>, wakes: AsyncStream<Void>
  ) async throws {
    var holds: [String: String]? =
      hello.serving.isEmpty
      ? nil : Dictionary(hello.serving.map { ($0.key, $0.digest) }, uniquingKeysWith: { a, _ in a })
    var refused: Int64?
    for await _ in wakes {
      let wanted = await plane.shipment(for: identity)
      if holds == wanted.digests {
        await plane.runs(identity, wanted)
        continue
      }
      if refused == wanted.generation { continue }
      let change = wanted.change(from: holds)
      try await response.write(.with { $0.snapshot = change })
      await plane.sent(change)
      guard let answer = try await inbound.next() else { return }
      switch answer.kind {
      case .ack(let ack) where ack.generation == wanted.generation:
        holds = wanted.digests
        await plane.runs(identity, wanted)
      case .nack(let nack) where nack.generation == wanted.generation:
        refused = wanted.generation
        await plane.refused(identity, generation: wanted.generation, errors: nack.errors)
      default:
        throw RPCError(
          code: .failedPrecondition, message: "expected an answer for generation \(wanted.generation)")
      }
    }
  }

  static func peerCertificate(_ context: ServerContext) -> Certificate? {
    (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
  }
}

/// Comparing secrets in time that does not depend on where they differ.
enum Secrets {
  static func equal(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(lhs.utf8)
    let right = Array(rhs.utf8)
    guard !right.isEmpty, left.count == right.count else { return false }
    var difference: UInt8 = 0
    for index in left.indices { difference |= left[index] ^ right[index] }
    return difference == 0
  }
}
