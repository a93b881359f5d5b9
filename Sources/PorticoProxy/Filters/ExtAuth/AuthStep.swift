import PorticoTranslate

/// What one AuthConfig step decided about a request.
enum AuthOutcome {
  /// Passed: who the caller is (when the step knows), headers for the upstream, and headers not to send
  /// on (a bearer token).
  case allowed(identity: String?, headers: [AuthHeader], removing: [String] = [])
  /// Refused: 401 with a challenge for missing or wrong credentials, 403 for a caller who may not pass.
  case denied(status: Int, challenge: String?)

  var isAllowed: Bool {
    if case .allowed = self { return true }
    return false
  }

  static let unauthenticated = AuthOutcome.denied(status: 401, challenge: nil)
}

/// A header a step sends upstream: in place of the client's, or after it.
struct AuthHeader {
  let name: String
  let value: String
  var append = false
}

/// One step of an AuthConfig, ready to check requests on any event loop.
protocol AuthStep: Sendable {
  func check(_ call: FilterCall) -> AuthOutcome
  /// The headers the step may set in place of the client's (lowercased): what the client sent under these
  /// names never reaches the upstream, whether or not the step has a value for them.
  var replacedHeaders: [String] { get }
}

extension ExtAuthConfig.Check {
  /// The step that checks requests as this says; `key` names what it keeps per event loop.
  func makeStep(key: String) -> any AuthStep {
    switch self {
    case .apiKey(let check): APIKeyStep(check)
    case .basic(let check): BasicAuthStep(check, cacheKey: key)
    case .jwt(let check): JWTStep(check, cacheKey: key)
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
