import CYAML

/// Builds `YAMLNode` trees from libyaml's event stream, one per document.
///
/// The composer keeps its own explicit stack, so hostile nesting cannot overflow the thread's stack;
/// it refuses documents nested deeper than `maximumDepth` and inputs larger than `maximumBytes`.
public struct YAMLComposer {
  public static let maximumDepth = 128
  public static let maximumBytes = 16 << 20
  /// Bounds the nodes of one document so that alias expansion ("billion laughs") stays cheap.
  public static let maximumNodes = 1_000_000

  public struct Failure: Error, CustomStringConvertible {
    public let location: SourceLocation
    public let message: String
    public var description: String { "\(location): \(message)" }
  }

  public let file: String

  public init(file: String) { self.file = file }

  /// Every non-empty document of `text`, in order.
  public func documents(in text: String) throws(Failure) -> [YAMLNode] {
    let result = read(text)
    if let failure = result.failure { throw failure }
    return result.documents
  }

  /// The documents of `text` that are complete before the first syntax error, and that error, if any: a
  /// mistake in one document of a file does not hide the documents before it.
  public func read(_ text: String) -> (documents: [YAMLNode], failure: Failure?) {
    guard text.utf8.count <= Self.maximumBytes else {
      let failure = Failure(
        location: SourceLocation(file: file, line: 1, column: 1),
        message: "file is larger than \(Self.maximumBytes >> 20) MiB")
      return ([], failure)
    }
    var bytes = Array(text.utf8)
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
      return ([], Failure(location: SourceLocation(file: file, line: 1, column: 1), message: "out of memory"))
    }
    defer { yaml_parser_delete(&parser) }
    var documents: [YAMLNode] = []
    do {
      try bytes.withUnsafeMutableBufferPointer { buffer throws(Failure) in
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        try compose(&parser, into: &documents)
      }
      return (documents, nil)
    } catch {
      return (documents, error)
    }
  }

  private final class Frame {
    let location: SourceLocation
    let anchor: String?
    let isMapping: Bool
    var items: [YAMLNode] = []
    init(location: SourceLocation, anchor: String?, isMapping: Bool) {
      self.location = location
      self.anchor = anchor
      self.isMapping = isMapping
    }
  }

  private func compose(_ parser: inout yaml_parser_t, into documents: inout [YAMLNode]) throws(Failure) {
    var stack: [Frame] = []
    var anchors: [String: YAMLNode] = [:]
    var root: YAMLNode?
    var nodeCount = 0

    func finish(_ node: YAMLNode, anchor: String?) throws(Failure) {
      nodeCount += 1
      if nodeCount > Self.maximumNodes {
        throw Failure(location: node.location, message: "document has more than \(Self.maximumNodes) nodes")
      }
      if let anchor { anchors[anchor] = node }
      if let top = stack.last { top.items.append(node) } else { root = node }
    }

    while true {
      var event = yaml_event_t()
      guard yaml_parser_parse(&parser, &event) == 1 else { throw parserFailure(parser) }
      defer { yaml_event_delete(&event) }
      let location = SourceLocation(
        file: file, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)

      switch event.type {
      case YAML_STREAM_END_EVENT:
        return
      case YAML_DOCUMENT_START_EVENT:
        root = nil
        anchors = [:]
        nodeCount = 0
      case YAML_DOCUMENT_END_EVENT:
        if let root, !root.isNull { documents.append(root) }
      case YAML_SCALAR_EVENT:
        let scalar = event.data.scalar
        let text = string(scalar.value, length: Int(scalar.length))
        let node = YAMLNode(
          .scalar(text, isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE), at: location)
        try finish(node, anchor: optionalString(scalar.anchor))
      case YAML_ALIAS_EVENT:
        let name = optionalString(event.data.alias.anchor) ?? ""
        guard let target = anchors[name] else {
          throw Failure(location: location, message: "unknown alias *\(name)")
        }
        try finish(target, anchor: nil)
      case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
        guard stack.count < Self.maximumDepth else {
          throw Failure(location: location, message: "nesting is deeper than \(Self.maximumDepth) levels")
        }
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        let anchor = optionalString(
          isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
        stack.append(Frame(location: location, anchor: anchor, isMapping: isMapping))
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        let frame = stack.removeLast()
        let node: YAMLNode
        if frame.isMapping {
          node = try mapping(from: frame)
        } else {
          node = YAMLNode(.sequence(frame.items), at: frame.location)
        }
        try finish(node, anchor: frame.anchor)
      default:
        break
      }
    }
  }

  private func mapping(from frame: Frame) throws(Failure) -> YAMLNode {
    var pairs: [(key: YAMLNode, value: YAMLNode)] = []
    pairs.reserveCapacity(frame.items.count / 2)
    var seen: Set<String> = []
    var index = 0
    while index + 1 < frame.items.count {
      let key = frame.items[index]
      guard let name = key.scalar else {
        throw Failure(location: key.location, message: "mapping keys must be plain strings")
      }
      guard seen.insert(name).inserted else {
        throw Failure(location: key.location, message: "duplicate key '\(name)'")
      }
      pairs.append((key, frame.items[index + 1]))
      index += 2
    }
    return YAMLNode(.mapping(pairs), at: frame.location)
  }

  private func parserFailure(_ parser: yaml_parser_t) -> Failure {
    let mark = parser.problem_mark
    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
    let context = parser.context.map { String(cString: $0) + ": " } ?? ""
    return Failure(
      location: SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1),
      message: "invalid YAML: \(context)\(problem)")
  }

  private func string(_ pointer: UnsafeMutablePointer<UInt8>?, length: Int) -> String {
    guard let pointer else { return "" }
    return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
  }

  private func optionalString(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
    guard let pointer else { return nil }
    return String(cString: pointer)
  }
}
