import Foundation
import GRPCCore
import NIOCore
import PorticoExtAuthGRPC
import PorticoTranslate
import SwiftProtobuf

/// `passThroughAuth.grpc`: the user's ext_authz server decides, asked with Envoy's
/// `envoy.service.auth.v3.Authorization/Check` as Envoy asks it, so a server written for Envoy answers
/// unchanged. The request's attributes go in the `CheckRequest` (method, path with its query, host, every
/// header, the client's address, the request ID), and the body when the settings' `requestBody` asks for it.
///
/// - Status `OK` lets the request through with the answer's `ok_response`: `headers` set upstream (added
///   after the client's when `append` is true), `headers_to_remove`, `query_parameters_to_set` and
///   `query_parameters_to_remove` on the request sent upstream, `response_headers_to_add` on the response.
/// - Any other status refuses it: `denied_response`'s status (403 when unset), headers and body.
/// - An `error_response`, or no answer, is a failed check (`statusOnError`, unless `failureModeAllow`).
struct ExtAuthzStep: AuthStep {
  private let service: ExtAuthConfig.PassThroughGRPCCheck
  private let timeout: TimeAmount
  private let client: ExtAuthzClients.Client

  init(_ service: ExtAuthConfig.PassThroughGRPCCheck, timeout: TimeAmount) {
    self.service = service
    self.timeout = timeout
    client = ExtAuthzClients.client(host: service.host, port: service.port)
  }

  var replacedHeaders: [String] { [] }
  var passesWhenFailed: Bool { service.failureModeAllow }
  var addsResponseHeaders: Bool { true }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    var request = Self.checkRequest(for: call)
    request.attributes.contextExtensions = service.contextExtensions
    let answer = NIOLoopBound(done, eventLoop: call.loop.eventLoop)
    let loop = call.loop.eventLoop
    var options = CallOptions.defaults
    options.timeout = .nanoseconds(timeout.nanoseconds)
    // A server that cannot be reached fails the check now, not when the request times out.
    options.waitForReady = false
    let client = client
    let endpoint = service.endpoint
    Task {
      let outcome: AuthOutcome
      do {
        let response = try await client.check(request, options: options)
        outcome = Self.outcome(of: response, endpoint)
      } catch let error as RPCError {
        outcome = .failed(reason: "\(endpoint) failed: \(error.code)")
      } catch {
        outcome = .failed(reason: "\(endpoint) failed")
      }
      loop.execute { answer.value(outcome) }
    }
    return nil
  }

  /// The request as Envoy describes it to an ext_authz server.
  static func checkRequest(for call: FilterCall) -> Envoy_Service_Auth_V3_CheckRequest {
    let head = call.request.head
    var http = Envoy_Service_Auth_V3_AttributeContext.HttpRequest()
    http.id = call.host.requestID.text
    http.method = String(call.request.method)
    http.path = String(call.request.originForm)
    http.host = String(call.request.authority)
    http.protocol = call.request.isHTTP10 ? "HTTP/1.0" : "HTTP/1.1"
    http.size = call.request.head.firstValue(named: "content-length").flatMap { Int64($0) } ?? -1
    for field in head.fields {
      let name = head.name(of: field).lowercased()
      let value = String(head.value(of: field))
      if let earlier = http.headers[name] {
        http.headers[name] = earlier + "," + value
      } else {
        http.headers[name] = value
      }
    }
    if let (body, partial, packed) = call.bodyForAuth {
      // As Envoy sends a buffered body: its bytes, and whether they are all of it.
      if packed {
        http.rawBody = Data(body.readableBytesView)
      } else {
        http.body = String(decoding: body.readableBytesView, as: UTF8.self)
      }
      http.headers["x-envoy-auth-partial-body"] = partial ? "true" : "false"
    }
    var source = Envoy_Service_Auth_V3_AttributeContext.Peer()
    var address = Envoy_Config_Core_V3_SocketAddress()
    address.address = call.clientAddress
    address.portValue = 0
    source.address.socketAddress = address
    var request = Envoy_Service_Auth_V3_CheckRequest()
    request.attributes.source = source
    request.attributes.request.time = Google_Protobuf_Timestamp(date: Date())
    request.attributes.request.http = http
    return request
  }

  static func outcome(of response: Envoy_Service_Auth_V3_CheckResponse, _ endpoint: String) -> AuthOutcome {
    if case .errorResponse? = response.httpResponse {
      return .failed(reason: "\(endpoint) answered an error_response")
    }
    guard response.status.code == 0 else {
      let denied = response.deniedResponse
      let status = Int(denied.status.code.rawValue)
      return .denied(
        status: (100...599).contains(status) ? status : 403, challenge: nil,
        headers: denied.headers.compactMap(header), body: denied.body.isEmpty ? nil : denied.body)
    }
    let ok = response.okResponse
    return .allowed(
      identity: nil, headers: ok.headers.compactMap(header),
      // Pseudo-headers and `host` stay, as in Envoy (the edits refuse protected names).
      removing: ok.headersToRemove.map { $0.lowercased() }.filter { isToken($0) },
      removingQuery: ok.queryParametersToRemove,
      settingQuery: ok.queryParametersToSet.filter { !$0.key.isEmpty }.map { ($0.key, $0.value) },
      responseHeaders: ok.responseHeadersToAdd.compactMap(header))
  }

  /// A header of the answer, when it can go on the wire: a server's bad name or a value with a line break
  /// is dropped, never written.
  private static func header(_ option: Envoy_Config_Core_V3_HeaderValueOption) -> AuthHeader? {
    let value =
      option.header.value.isEmpty && !option.header.rawValue.isEmpty
      ? String(decoding: option.header.rawValue, as: UTF8.self) : option.header.value
    let name = option.header.key.lowercased()
    guard isToken(name), value.utf8.allSatisfy(ByteClass.isFieldValue) else { return nil }
    // Unset `append` means overwrite in an ext_authz answer (Envoy's rule for these messages).
    return AuthHeader(name: name, value: value, append: option.append.value)
  }

  private static func isToken(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.allSatisfy(ByteClass.isToken)
  }
}
