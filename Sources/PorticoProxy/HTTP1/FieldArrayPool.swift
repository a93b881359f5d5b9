/// Arrays of field offsets, lent to the request heads an event loop parses and returned when their
/// exchanges end. A head then costs no allocation for its fields, and an idle connection holds none. An
/// array returned while something still holds its head is not written over: the next head that takes it
/// gets storage of its own (`ParsedHead.parse(_:limits:reusing:)`).
final class FieldArrayPool {
  private var spare: [[FieldSpan]] = []
  /// Enough for the requests one loop has in flight at once; beyond it arrays are let go.
  static let limit = 1024

  func take() -> [FieldSpan] { spare.popLast() ?? [] }

  func giveBack(_ fields: [FieldSpan]) {
    if spare.count < Self.limit { spare.append(fields) }
  }
}
