import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// A form POSTed to an OAuth endpoint (token, introspection), as RFC 6749 §2.3.1 has a client send it: the
/// form URL-encoded, and the client's ID and secret in HTTP Basic when it has a secret. JSON comes back.
enum OAuthForm {
  static func request(to url: String, _ form: [(String, String)], clientID: String?, clientSecret: String?)
    -> HTTPClient.Request?
  {
    var headers = HTTPHeaders([
      ("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json"),
    ])
    if let clientID, let clientSecret {
      let pair = QueryParameters.encoded(clientID) + ":" + QueryParameters.encoded(clientSecret)
      headers.add(name: "authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
    }
    return try? HTTPClient.Request(url: url, method: .POST, headers: headers, body: .string(encoded(form)))
  }

  /// `name=value&...`, each part percent-encoded (also for a URL's query).
  static func encoded(_ pairs: [(String, String)]) -> String {
    pairs.map { QueryParameters.encoded($0.0) + "=" + QueryParameters.encoded($0.1) }.joined(separator: "&")
  }

  /// A JSON object answered with 200, or nil.
  static func object(in result: Result<HTTPClient.Response, any Error>) -> [String: Any]? {
    guard case .success(let response) = result, response.status == .ok, let body = response.body else {
      return nil
    }
    return try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
  }
}
