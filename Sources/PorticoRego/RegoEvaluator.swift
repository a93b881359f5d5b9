import CRego
import Foundation

/// One compiled copy of a policy, for one thread at a time: rego-cpp's interpreter keeps state per query,
/// so each thread that evaluates a policy has its own evaluator (and its own compiled bundle).
public final class RegoEvaluator {
  private let api: UnsafePointer<CRegoAPI>
  private let interpreter: UnsafeMutableRawPointer
  private let bundle: UnsafeMutableRawPointer

  public init(_ program: RegoProgram) throws(RegoError) {
    let api = try RegoLibrary.api.get()
    guard let interpreter = api.pointee.regoNew() else { throw RegoError("rego-cpp could not start") }
    // Problems come back as values, not as text the library prints.
    _ = api.pointee.regoSetLogLevel(interpreter, 0)
    for module in program.modules
    where api.pointee.regoAddModule(interpreter, module.name, module.source) != 0 {
      let error = Self.problem(Self.lastError(api, interpreter), in: program)
      api.pointee.regoFree(interpreter)
      throw error
    }
    guard api.pointee.regoSetQuery(interpreter, program.query) == 0 else {
      let error = RegoError("query '\(program.query)': \(Self.lastError(api, interpreter))")
      api.pointee.regoFree(interpreter)
      throw error
    }
    guard let bundle = api.pointee.regoBuild(interpreter), api.pointee.regoBundleOk(bundle) else {
      let error = Self.problem(Self.lastError(api, interpreter), in: program)
      api.pointee.regoFree(interpreter)
      throw error
    }
    self.api = api
    self.interpreter = interpreter
    self.bundle = bundle
  }

  deinit {
    api.pointee.regoFreeBundle(bundle)
    api.pointee.regoFree(interpreter)
  }

  /// Whether the query yields `true` for `input` (a JSON document): every expression of every result is
  /// `true`. Undefined, false, or anything else is a no.
  public func allows(input: String) throws(RegoError) -> Bool {
    guard api.pointee.regoSetInputTerm(interpreter, input) == 0 else {
      throw RegoError("the input was refused: \(Self.lastError(api, interpreter))")
    }
    guard let output = api.pointee.regoBundleQuery(interpreter, bundle) else {
      throw RegoError("the query failed: \(Self.lastError(api, interpreter))")
    }
    defer { api.pointee.regoFreeOutput(output) }
    let size = api.pointee.regoOutputJSONSize(output)
    var text = [CChar](repeating: 0, count: Int(size) + 1)
    _ = api.pointee.regoOutputJSON(output, &text, UInt32(text.count))
    let json = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard api.pointee.regoOutputOk(output) else { throw RegoError("the query failed: \(json)") }
    return Self.yieldsTrue(json)
  }

  /// `{"expressions":[true]}`, or a list of such results, every expression `true`.
  static func yieldsTrue(_ json: String) -> Bool {
    let data = Data(json.utf8)
    let decoder = JSONDecoder()
    let results =
      (try? decoder.decode([QueryResult].self, from: data))
      ?? (try? decoder.decode(QueryResult.self, from: data)).map { [$0] } ?? []
    return !results.isEmpty
      && results.allSatisfy { !$0.expressions.isEmpty && $0.expressions.allSatisfy { $0 } }
  }

  /// A result whose expressions are all booleans; any other value fails to decode, and is a no.
  private struct QueryResult: Decodable {
    let expressions: [Bool]
  }

  private static func lastError(_ api: UnsafePointer<CRegoAPI>, _ interpreter: UnsafeMutableRawPointer)
    -> String
  {
    let size = api.pointee.regoErrorSize(interpreter)
    var text = [CChar](repeating: 0, count: Int(size) + 1)
    _ = api.pointee.regoError(interpreter, &text, UInt32(text.count))
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// rego-cpp's error, `(error LEN:MODULE|OFFSET|LENGTH (errormsg LEN:MESSAGE) ...)`, as the first problem it
  /// names with its module, line and column; the text as it is when it has another shape.
  static func problem(_ text: String, in program: RegoProgram) -> RegoError {
    guard let error = text.range(of: "(error "), let message = text.range(of: "(errormsg ") else {
      return RegoError(text.isEmpty ? "the policy does not compile" : text)
    }
    func counted(from start: String.Index) -> (String, String.Index)? {
      guard let colon = text[start...].firstIndex(of: ":"), let length = Int(text[start..<colon]) else {
        return nil
      }
      let valueStart = text.index(after: colon)
      let utf8 = text.utf8
      guard let valueEnd = utf8.index(valueStart, offsetBy: length, limitedBy: utf8.endIndex) else {
        return nil
      }
      return (String(text[valueStart..<valueEnd]), valueEnd)
    }
    let reason = counted(from: message.upperBound)?.0 ?? "the policy does not compile"
    guard let (name, after) = counted(from: error.upperBound),
      let module = program.modules.first(where: { $0.name == name })
    else { return RegoError(reason) }
    let place = text[after...].dropFirst().prefix { $0 != "|" && $0 != " " && $0 != "\n" }
    guard let offset = Int(place) else { return RegoError(reason, module: name) }
    let before = module.source.utf8.prefix(offset)
    let line = before.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    let column =
      before.count
      - (before.lastIndex(of: UInt8(ascii: "\n")).map { before.distance(from: before.startIndex, to: $0) + 1 }
        ?? 0) + 1
    return RegoError(reason, module: name, line: line, column: column)
  }
}
