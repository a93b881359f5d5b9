import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// An OpenID Connect provider's endpoints, read from its discovery document
/// (`ISSUER/.well-known/openid-configuration`) on first use and kept: one per issuer, shared by every step and
/// event loop. A failed read is tried again by the next request that needs it.
final class OIDCProvider: Sendable {
  struct Endpoints: Sendable {
    let issuer: String
    let authorization: String
    let token: String
    let jwks: RemoteJWKS
    let endSession: String?
  }

  private let issuer: String
  private let state = Mutex<(endpoints: Endpoints?, pending: EventLoopFuture<Endpoints>?)>((nil, nil))
  private static let known = SharedByKey<String, OIDCProvider>()
  private static let timeout = TimeAmount.seconds(5)

  private init(issuer: String) { self.issuer = issuer }

  static func shared(issuer: String) -> OIDCProvider {
    known.value(for: issuer) { OIDCProvider(issuer: issuer) }
  }

  /// The endpoints, at once when they are known; one read of the document at a time otherwise.
  func endpoints(on loop: EventLoop) -> EventLoopFuture<Endpoints> {
    let (known, pending) = state.withLock { current -> (Endpoints?, EventLoopFuture<Endpoints>?) in
      if let endpoints = current.endpoints { return (endpoints, nil) }
      if let pending = current.pending { return (nil, pending) }
      let read = fetch()
      current.pending = read
      return (nil, read)
    }
    if let known { return loop.makeSucceededFuture(known) }
    return pending!.hop(to: loop)
  }

  private func fetch() -> EventLoopFuture<Endpoints> {
    let client = AuthHTTPClient.client(connectTimeoutNanoseconds: 1_000_000_000)
    let issuer = issuer
    let read = client.get(url: issuer + "/.well-known/openid-configuration", deadline: .now() + Self.timeout)
      .flatMapThrowing { response -> Endpoints in
        guard response.status == .ok, let body = response.body,
          let document = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
            as? [String: Any],
          let authorization = document["authorization_endpoint"] as? String,
          let token = document["token_endpoint"] as? String, let jwks = document["jwks_uri"] as? String
        else { throw DiscoveryFailure(issuer: issuer) }
        // The document must be the issuer's own (OpenID Connect Discovery §4.3).
        let named = (document["issuer"] as? String).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        guard named == issuer else { throw DiscoveryFailure(issuer: issuer) }
        return Endpoints(
          issuer: document["issuer"] as! String, authorization: authorization, token: token,
          jwks: RemoteJWKS.shared(url: jwks, cacheSeconds: 300),
          endSession: document["end_session_endpoint"] as? String)
      }
    read.whenComplete { [self] result in
      state.withLock { current in
        current.pending = nil
        if case .success(let endpoints) = result { current.endpoints = endpoints }
      }
    }
    return read
  }

  struct DiscoveryFailure: Error, CustomStringConvertible {
    let issuer: String
    var description: String { "\(issuer) has no usable discovery document" }
  }
}
