import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import PorticoTranslate

/// `passThroughAuth` over HTTP: the user's service decides. Each request is put to it as a `POST` to its
/// URL with an empty body, carrying the client's allowed headers (`authorization` always), the configured
/// `headersToAdd`, and where the request was going: `x-forwarded-method`, `x-forwarded-uri` (path and
/// query), `x-forwarded-host` and `x-forwarded-for` (the client's address). A 2xx answer lets the request
/// through with the answer's allowed upstream headers; 401 and 403 refuse it with that status and the
/// answer's allowed client headers; any other answer (a redirect too), or none, is a failed check. Connecting
/// may take `connectionTimeout`; the settings' `requestTimeout` bounds the whole check.
struct PassThroughStep: AuthStep {
  private let service: ExtAuthConfig.PassThroughCheck
  private let timeout: TimeAmount
  private let client: HTTPClient

  init(_ service: ExtAuthConfig.PassThroughCheck, timeout: TimeAmount) {
    self.service = service
    self.timeout = timeout
    client = AuthHTTPClient.client(connectTimeoutNanoseconds: service.connectionTimeoutNanoseconds)
  }

  var replacedHeaders: [String] { service.upstreamHeaders }
  var passesWhenFailed: Bool { service.failureModeAllow }

  func check(_ call: FilterCall, done: @escaping (AuthOutcome) -> Void) -> AuthOutcome? {
    let request: HTTPClient.Request
    do {
      request = try HTTPClient.Request(url: service.url, method: .POST, headers: headers(for: call))
    } catch {
      return .failed(reason: "cannot ask \(service.endpoint): \(error)")
    }
    let loop = call.loop.eventLoop
    let answer = NIOLoopBound(done, eventLoop: loop)
    let service = service
    client.execute(request: request, deadline: .now() + timeout).whenComplete { result in
      let outcome = Self.outcome(of: result, service)
      loop.execute { answer.value(outcome) }
    }
    return nil
  }

  private func headers(for call: FilterCall) -> HTTPHeaders {
    var headers = HTTPHeaders()
    let head = call.request.head
    for field in head.fields {
      let name = head.name(of: field)
      if service.allowedHeaders.contains(where: { name.equalsIgnoringASCIICase($0) }) {
        headers.add(name: name.lowercased(), value: String(head.value(of: field)))
      }
    }
    for (name, value) in service.headersToAdd.sorted(by: { $0.key < $1.key }) {
      headers.replaceOrAdd(name: name, value: value)
    }
    let request = call.request
    headers.replaceOrAdd(name: "x-forwarded-method", value: String(request.method))
    headers.replaceOrAdd(
      name: "x-forwarded-uri",
      value: request.query.isEmpty ? String(request.path) : "\(request.path)?\(request.query)")
    headers.replaceOrAdd(name: "x-forwarded-host", value: String(request.authority))
    headers.replaceOrAdd(name: "x-forwarded-for", value: call.clientAddress)
    headers.replaceOrAdd(name: "content-length", value: "0")
    return headers
  }

  private static func outcome(
    of result: Result<HTTPClient.Response, any Error>, _ service: ExtAuthConfig.PassThroughCheck
  ) -> AuthOutcome {
    guard case .success(let response) = result else {
      return .failed(reason: "\(service.endpoint) did not answer")
    }
    func picked(_ names: [String], append: Bool = false) -> [AuthHeader] {
      names.flatMap { name in response.headers[name].map { AuthHeader(name: name, value: $0, append: append) }
      }
    }
    switch response.status.code {
    case 200..<300:
      return .allowed(
        identity: nil,
        headers: picked(service.upstreamHeaders) + picked(service.upstreamHeadersToAppend, append: true))
    case 401, 403:
      return .denied(
        status: Int(response.status.code), challenge: nil, headers: picked(service.clientHeadersOnDenied))
    default:
      return .failed(reason: "\(service.endpoint) answered \(response.status.code)")
    }
  }
}
