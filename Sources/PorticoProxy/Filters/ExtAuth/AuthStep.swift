import NIOCore
import PorticoTranslate

/// What one AuthConfig step decided about a request.
enum AuthOutcome: Sendable {
  /// Passed: who the caller is (when the step knows), headers for the upstream, headers and query
  /// parameters not to send on (a bearer token), query parameters to set, and headers for the client's
  /// response.
  case allowed(
    identity: String?, headers: [AuthHeader], removing: [String] = [], removingQuery: [String] = [],
    settingQuery: [(name: String, value: String)] = [], responseHeaders: [AuthHeader] = [])
  /// Refused: 401 with a challenge for missing or wrong credentials, 403 for a caller who may not pass;
  /// `headers` go to the client with the answer, and `body` when the step has one of its own.
  case denied(status: Int, challenge: String?, headers: [AuthHeader] = [], body: String? = nil)
  /// The check could not be made: its backend is down, slow, or answered what no check answers. The
  /// settings' `statusOnError` answers, unless `failureModeAllow` lets the request through.
  case failed(reason: String)

  var isAllowed: Bool {
    if case .allowed = self { return true }
    return false
  }

  var isFailure: Bool {
    if case .failed = self { return true }
    return false
  }

  static let unauthenticated = AuthOutcome.denied(status: 401, challenge: nil)
}

/// A header a step sends upstream (in place of the client's, or after it), or to the client.
struct AuthHeader: Sendable {
  let name: String
  let value: String
  var append = false
}

/// One step of an AuthConfig, ready to check requests on any event loop.
protocol AuthStep: Sendable {
  /// The outcome, when the step can tell at once; nil when it asks a backend: then `done` is called once,
  /// later, on the request's event loop.
  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome?
  /// The headers the step may set in place of the client's (lowercased): what the client sent under these
  /// names never reaches the upstream, whether or not the step has a value for them.
  var replacedHeaders: [String] { get }
  /// The outcome when the step can tell without waiting (a remembered token, a key), checked first so that
  /// the common case makes no completion handler; nil sends the request to `check`.
  func outcomeAtOnce(_ call: FilterCall) -> AuthOutcome?
  /// The step's own `failureModeAllow`: a failed check of this step passes.
  var passesWhenFailed: Bool { get }
  /// The step may ask for headers on the response of a request it lets through.
  var addsResponseHeaders: Bool { get }
}

extension AuthStep {
  func outcomeAtOnce(_ call: FilterCall) -> AuthOutcome? { nil }
  var passesWhenFailed: Bool { false }
  var addsResponseHeaders: Bool { false }
}

/// A step that decides from the request alone, on the event loop.
protocol ImmediateAuthStep: AuthStep {
  func check(_ call: FilterCall) -> AuthOutcome
}

extension ImmediateAuthStep {
  func outcomeAtOnce(_ call: FilterCall) -> AuthOutcome? { check(call) }
  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? { check(call) }
}

extension ExtAuthConfig.Check {
  /// The step that checks requests as this says; `key` names what it keeps per event loop, and `timeout`
  /// bounds a backend's answer.
  func makeStep(key: String, timeout: TimeAmount) -> any AuthStep {
    switch self {
    case .apiKey(let check): APIKeyStep(check)
    case .basic(let check): BasicAuthStep(check, cacheKey: key)
    case .jwt(let check): JWTStep(check, cacheKey: key)
    case .passThrough(let check): PassThroughStep(check, timeout: timeout)
    case .passThroughGRPC(let check): ExtAuthzStep(check, timeout: timeout)
    case .ldap(let check): LDAPStep(check, timeout: timeout)
    case .opa(let check): OPAStep(check)
    case .oidc(let check): OIDCStep(check, configID: key, timeout: timeout)
    case .accessToken(let check): AccessTokenStep(check, cacheKey: key, timeout: timeout)
    }
  }
}

/// Equal in time whatever the bytes: how long a comparison takes says nothing about how much of a secret
/// a guess got right.
func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
  guard lhs.count == rhs.count else { return false }
  var difference: UInt8 = 0
  for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
  return difference == 0
}
