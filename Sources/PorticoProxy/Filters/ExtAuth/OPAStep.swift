import Foundation
import NIOCore
import NIOPosix
import PorticoExtAuthGRPC
import PorticoRego
import PorticoTranslate
import SwiftProtobuf

/// `opaAuth`: a Rego policy decides, evaluated in the gateway by rego-cpp on NIO's thread pool (an
/// evaluation takes tens of microseconds, too long for an event loop). The input has Gloo's layout, so
/// policies written for Gloo run unchanged:
/// - `input.check_request`: the request as Envoy describes it to an ext_authz server (the `CheckRequest`
///   of `passThroughAuth.grpc`, with the proto's field names);
/// - `input.http_request`: its `attributes.request.http` part (method, path with the query, host,
///   headers);
/// - `input.state.jwt`: the bearer token an earlier `jwt` step verified, when there was one
///   (`io.jwt.decode(input.state.jwt)` reads its claims).
///
/// The request passes when the query yields `true`; anything else (false, undefined) is 403. A policy that
/// fails while it runs is a failed check (`statusOnError`).
struct OPAStep: AuthStep {
  private let program: RegoProgram

  init(_ check: ExtAuthConfig.OPACheck) { program = check.program }

  var replacedHeaders: [String] { [] }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    let input: String
    do {
      input = try Self.input(for: call)
    } catch {
      return .failed(reason: "the policy's input could not be made: \(error)")
    }
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let program = program
    NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
      try RegoEvaluators.current.evaluator(for: program).allows(input: input)
    }.whenComplete { result in
      switch result {
      case .success(true): answer.value(.allowed(identity: nil, headers: []))
      case .success(false): answer.value(.denied(status: 403, challenge: nil))
      case .failure(let error): answer.value(.failed(reason: "the policy failed: \(error)"))
      }
    }
    return nil
  }

  /// Gloo's input document, as JSON.
  static func input(for call: FilterCall) throws -> String {
    let request = ExtAuthzStep.checkRequest(for: call)
    var options = JSONEncodingOptions()
    options.preserveProtoFieldNames = true
    var input = "{\"check_request\":" + (try request.jsonString(options: options))
    input += ",\"http_request\":" + (try request.attributes.request.http.jsonString(options: options))
    if let token = call.verifiedJWT {
      input += ",\"state\":{\"jwt\":" + Self.quoted(token) + "}"
    } else {
      input += ",\"state\":{}"
    }
    return input + "}"
  }

  /// A JSON string (a token holds only base64url characters and dots; anything else is escaped anyway).
  private static func quoted(_ text: Substring) -> String {
    let data = try? JSONSerialization.data(withJSONObject: [String(text)])
    return data.map { String(decoding: $0.dropFirst().dropLast(), as: UTF8.self) } ?? "\"\""
  }
}

/// Each pool thread's compiled policies: an evaluator is used by one thread at a time, and compiled on
/// the thread that first needs it. Bounded: after a reload the old policies are dropped with the rest
/// when the thread holds too many. Unchecked: each instance is reached only through its own thread's slot.
final class RegoEvaluators: @unchecked Sendable {
  private static let perThread = ThreadSpecificVariable<RegoEvaluators>()
  private static let bound = 64
  private var evaluators: [RegoProgram: RegoEvaluator] = [:]

  static var current: RegoEvaluators {
    if let existing = perThread.currentValue { return existing }
    let made = RegoEvaluators()
    perThread.currentValue = made
    return made
  }

  func evaluator(for program: RegoProgram) throws -> RegoEvaluator {
    if let found = evaluators[program] { return found }
    if evaluators.count >= Self.bound { evaluators.removeAll() }
    let made = try RegoEvaluator(program)
    evaluators[program] = made
    return made
  }
}
