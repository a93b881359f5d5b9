import NIOCore
import XCTest

@testable import PorticoProxy

/// Raw requests, well-formed and hostile, through the gateway's HTTP/1.1 reader: each is either read as
/// exactly the messages a strict reading gives, or refused with the expected status. Every case is read
/// twice, all at once and one byte at a time, and both readings must agree.
final class HTTP1RequestCorpusTests: XCTestCase {
  /// What reading a case gives: the messages read, then the status of a refusal if there was one.
  struct Reading: Equatable {
    var messages: [Message] = []
    var refusal: Int?
  }

  struct Message: Equatable {
    var method = ""
    var path = ""
    var query = ""
    var authority = ""
    var framing = BodyFraming.none
    var keepAlive = true
    var body = ""
    var trailers: String?
  }

  static func message(
    _ method: String = "GET", path: String = "/", query: String = "", authority: String = "a.test",
    framing: BodyFraming = .none, keepAlive: Bool = true, body: String = "", trailers: String? = nil
  ) -> Message {
    Message(
      method: method, path: path, query: query, authority: authority, framing: framing, keepAlive: keepAlive,
      body: body, trailers: trailers)
  }

  static let cases: [(name: String, raw: String, expected: Reading)] = [
    // Well-formed.
    (
      "simple GET", "GET /a?b=1 HTTP/1.1\r\nHost: a.test\r\n\r\n",
      .init(messages: [message(path: "/a", query: "b=1")])
    ),
    (
      "content-length body", "POST /p HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello",
      .init(messages: [message("POST", path: "/p", framing: .length(5), body: "hello")])
    ),
    (
      "chunked body with extension and trailer",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1 ;x\r\n!\r\n0\r\nX-Sum: 1\r\n\r\n",
      .init(messages: [message("POST", framing: .chunked, body: "hello!", trailers: "X-Sum: 1\r\n\r\n")])
    ),
    (
      "pipelined pair", "GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: a.test\r\n\r\n",
      .init(messages: [message(path: "/1"), message(path: "/2")])
    ),
    (
      "empty line before a request is ignored", "\r\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n",
      .init(messages: [message()])
    ),
    (
      "HTTP/1.0 without Host, not kept alive", "GET / HTTP/1.0\r\n\r\n",
      .init(messages: [message(authority: "", keepAlive: false)])
    ),
    (
      "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      .init(messages: [message(authority: "")])
    ),
    (
      "Connection: close", "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
      .init(messages: [message(keepAlive: false)])
    ),
    (
      "absolute form overrides Host", "GET http://b.test:8080/x?y HTTP/1.1\r\nHost: a.test\r\n\r\n",
      .init(messages: [message(path: "/x", query: "y", authority: "b.test:8080")])
    ),
    (
      "absolute form without a path", "GET http://b.test HTTP/1.1\r\nHost: b.test\r\n\r\n",
      .init(messages: [message(path: "/", authority: "b.test")])
    ),
    (
      "OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n",
      .init(messages: [message("OPTIONS", path: "*")])
    ),
    (
      "whitespace around a value is not part of it", "GET / HTTP/1.1\r\nHost: \t a.test \t\r\n\r\n",
      .init(messages: [message()])
    ),
    (
      "UTF-8 in a value", "GET / HTTP/1.1\r\nHost: a.test\r\nX-Name: Zoë\r\n\r\n",
      .init(messages: [message()])
    ),

    // Smuggling: the gateway and a server behind it must never disagree about where a request ends.
    (
      "CL.TE",
      "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
      .init(refusal: 400)
    ),
    (
      "TE.CL",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "TE with space before the colon",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding : chunked\r\n\r\n", .init(refusal: 400)
    ),
    (
      "TE folded onto the next line",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", .init(refusal: 400)
    ),
    (
      "TE xchunked", "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n",
      .init(refusal: 501)
    ),
    (
      "TE chunked twice in a list",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .init(refusal: 501)
    ),
    (
      "TE identity then chunked",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: identity, chunked\r\n\r\n", .init(refusal: 501)
    ),
    (
      "two TE fields",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "TE with a vertical tab", "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding:\u{0B}chunked\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "TE name with a bare LF", "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding\n: chunked\r\n\r\n",
      .init(refusal: 400)
    ),
    ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .init(refusal: 400)),
    (
      "duplicate Content-Length",
      "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
      .init(refusal: 400)
    ),
    (
      "Content-Length list", "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3, 3\r\n\r\nabc",
      .init(refusal: 400)
    ),
    (
      "signed Content-Length", "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: +3\r\n\r\nabc",
      .init(refusal: 400)
    ),
    (
      "negative Content-Length", "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: -1\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "hexadecimal Content-Length", "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0x3\r\n\r\nabc",
      .init(refusal: 400)
    ),
    (
      "huge Content-Length",
      "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 99999999999999999999\r\n\r\n", .init(refusal: 400)
    ),
    (
      "0x chunk size",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
      .init(messages: [], refusal: 400)
    ),
    (
      "negative chunk size",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "overflowing chunk size",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\n",
      .init(refusal: 400)
    ),
    (
      "chunk size with a bare LF",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "chunk data longer than its size",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "chunk size followed by junk",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "NUL in a chunk extension",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5;a\u{0}b\r\nhello\r\n0\r\n\r\n",
      .init(refusal: 400)
    ),
    (
      "trailer with a space before the colon",
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A : b\r\n\r\n",
      .init(refusal: 400)
    ),

    // Malformed heads.
    ("bare LF line endings", "GET / HTTP/1.1\nHost: a.test\n\n", .init(refusal: 400)),
    ("bare LF inside the fields", "GET / HTTP/1.1\r\nHost: a.test\nX-A: b\r\n\r\n", .init(refusal: 400)),
    ("bare CR in a value", "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: b\rc\r\n\r\n", .init(refusal: 400)),
    ("NUL in a value", "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: b\u{0}c\r\n\r\n", .init(refusal: 400)),
    ("NUL in the target", "GET /a\u{0}b HTTP/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("DEL in a value", "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: b\u{7F}\r\n\r\n", .init(refusal: 400)),
    ("obs-fold", "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: b\r\n c\r\n\r\n", .init(refusal: 400)),
    ("empty field name", "GET / HTTP/1.1\r\nHost: a.test\r\n: b\r\n\r\n", .init(refusal: 400)),
    ("field name with a slash", "GET / HTTP/1.1\r\nHost: a.test\r\nX/A: b\r\n\r\n", .init(refusal: 400)),
    ("missing Host", "GET / HTTP/1.1\r\n\r\n", .init(refusal: 400)),
    ("two Host fields", "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", .init(refusal: 400)),
    ("Host with a path", "GET / HTTP/1.1\r\nHost: a.test/x\r\n\r\n", .init(refusal: 400)),
    ("Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n", .init(refusal: 400)),
    ("two spaces in the request line", "GET  / HTTP/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("lowercase version", "GET / http/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("version 2.0", "GET / HTTP/2.0\r\nHost: a.test\r\n\r\n", .init(refusal: 505)),
    ("version 0.9 named", "GET / HTTP/0.9\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("junk after the version", "GET / HTTP/1.1 \r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("target without a slash", "GET a HTTP/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("CONNECT", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n", .init(refusal: 405)),
    ("CONNECT without a port", "CONNECT a.test HTTP/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("CONNECT to a path", "CONNECT /a:443 HTTP/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    ("CONNECT with an empty port", "CONNECT a.test: HTTP/1.1\r\nHost: a.test\r\n\r\n", .init(refusal: 400)),
    (
      "invalid UTF-8 in a value", "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: \u{FFFD}\r\n\r\n",
      .init(messages: [message()])
    ),
    (
      "a refused request after a good one",
      "GET / HTTP/1.1\r\nHost: a.test\r\n\r\nGET / HTTP/1.1\r\nHost : a.test\r\n\r\n",
      .init(messages: [message()], refusal: 400)
    ),
  ]

  func testCorpus() throws {
    for (name, raw, expected) in Self.cases {
      let bytes = Array(raw.utf8)
      XCTAssertEqual(Self.read(bytes, pieceSize: bytes.count), expected, name)
      XCTAssertEqual(Self.read(bytes, pieceSize: 1), expected, "\(name), one byte at a time")
    }
  }

  func testInvalidUTF8IsRefused() {
    var bytes = Array("GET / HTTP/1.1\r\nHost: a.test\r\nX-A: ".utf8)
    bytes += [0xC3, 0x28]
    bytes += Array("\r\n\r\n".utf8)
    XCTAssertEqual(Self.read(bytes, pieceSize: bytes.count).refusal, 400)
  }

  func testLimits() {
    var limits = HTTP1Limits()
    limits.maxRequestLineBytes = 64
    limits.maxHeadBytes = 256
    limits.maxFieldCount = 4
    let longLine = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: a.test\r\n\r\n"
    XCTAssertEqual(Self.read(Array(longLine.utf8), pieceSize: 10, limits: limits).refusal, 414)
    let bigHead = "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: " + String(repeating: "b", count: 300) + "\r\n\r\n"
    XCTAssertEqual(Self.read(Array(bigHead.utf8), pieceSize: 10, limits: limits).refusal, 431)
    let manyFields = "GET / HTTP/1.1\r\nHost: a.test\r\n" + String(repeating: "X-A: b\r\n", count: 4) + "\r\n"
    XCTAssertEqual(Self.read(Array(manyFields.utf8), pieceSize: 1000, limits: limits).refusal, 431)
    let fourFields = "GET / HTTP/1.1\r\nHost: a.test\r\n" + String(repeating: "X-A: b\r\n", count: 3) + "\r\n"
    XCTAssertNil(Self.read(Array(fourFields.utf8), pieceSize: 1000, limits: limits).refusal)
  }

  /// Reads `bytes` in pieces of `pieceSize` as the gateway does, collecting messages until a refusal.
  static func read(_ bytes: [UInt8], pieceSize: Int, limits: HTTP1Limits = HTTP1Limits()) -> Reading {
    var reader = HTTP1Reader(limits: limits, readsRequests: true)
    var reading = Reading()
    var current: Message?
    var offset = 0
    do {
      while offset < bytes.count {
        let end = min(bytes.count, offset + pieceSize)
        reader.append(ByteBuffer(bytes: bytes[offset..<end]))
        offset = end
        while let event = try reader.next() {
          switch event {
          case .head(let buffer):
            let head = try RequestHead.parse(buffer, limits: limits)
            reader.expectBody(head.framing)
            current = Message(
              method: String(head.method), path: String(head.path), query: String(head.query),
              authority: String(head.authority), framing: head.framing, keepAlive: head.keepAlive)
          case .body(let buffer):
            current?.body += String(buffer: buffer)
          case .end(let trailers):
            current?.trailers = trailers.map { String(buffer: $0) }
            if let current { reading.messages.append(current) }
            current = nil
          }
        }
      }
    } catch {
      reading.refusal = error.status
    }
    return reading
  }
}
