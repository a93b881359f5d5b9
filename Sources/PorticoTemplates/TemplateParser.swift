/// Reads a template's text into nodes, checking every function's name and argument count: a template
/// that parses never fails for its syntax at run time.
struct TemplateParser {
  private let characters: [Character]
  private var position = 0

  init(_ text: String) { characters = Array(text) }

  static func parse(_ text: String) throws(TemplateError) -> [TemplateNode] {
    var parser = TemplateParser(text)
    let (nodes, end) = try parser.nodes(until: [])
    if let end { throw parser.error("unexpected {% \(end) %}") }
    return nodes
  }

  // MARK: - Text and tags

  /// Nodes until one of `terminators` (a statement keyword) closes them; returns it (nil at the end).
  private mutating func nodes(until terminators: Set<String>) throws(TemplateError) -> (
    [TemplateNode], String?
  ) {
    var nodes: [TemplateNode] = []
    var text = ""
    func flush() {
      if !text.isEmpty { nodes.append(.text(text)) }
      text = ""
    }
    while position < characters.count {
      if lookingAt("{{") {
        flush()
        position += 2
        let expression = try self.expression()
        try expect("}}")
        nodes.append(.output(expression))
      } else if lookingAt("{#") {
        flush()
        guard let end = find("#}") else { throw error("a comment is not closed with #}") }
        position = end + 2
      } else if lookingAt("{%") {
        flush()
        position += 2
        skipSpaces()
        let keyword = identifier() ?? ""
        if terminators.contains(keyword) || ["else", "endif", "endfor"].contains(keyword) {
          guard terminators.contains(keyword) else { throw error("unexpected {% \(keyword) %}") }
          return (nodes, keyword)
        }
        nodes.append(try statement(keyword))
      } else {
        text.append(characters[position])
        position += 1
      }
    }
    flush()
    guard terminators.isEmpty else {
      throw error("the template ends before {% \(terminators.sorted().joined(separator: " %} or {% ")) %}")
    }
    return (nodes, nil)
  }

  private mutating func statement(_ keyword: String) throws(TemplateError) -> TemplateNode {
    switch keyword {
    case "if":
      var branches: [(condition: TemplateExpression, body: [TemplateNode])] = []
      var condition = try expression()
      try expect("%}")
      while true {
        let (body, end) = try nodes(until: ["else", "endif"])
        branches.append((condition: condition, body: body))
        if end == "endif" {
          try expect("%}")
          return .conditional(branches, otherwise: [])
        }
        skipSpaces()
        if identifier(ifNext: "if") {
          condition = try expression()
          try expect("%}")
          continue
        }
        try expect("%}")
        let (otherwise, _) = try nodes(until: ["endif"])
        try expect("%}")
        return .conditional(branches, otherwise: otherwise)
      }
    case "for":
      skipSpaces()
      guard let first = identifier() else { throw error("expected a loop variable") }
      skipSpaces()
      var key: String?
      var value = first
      if lookingAt(",") {
        position += 1
        skipSpaces()
        guard let second = identifier() else { throw error("expected a loop variable") }
        key = first
        value = second
      }
      skipSpaces()
      guard identifier(ifNext: "in") else { throw error("expected 'in'") }
      let list = try expression()
      try expect("%}")
      let (body, _) = try nodes(until: ["endfor"])
      try expect("%}")
      return .loop(key: key, value: value, over: list, body: body)
    case "set":
      skipSpaces()
      guard let name = identifier() else { throw error("expected a variable name") }
      skipSpaces()
      try expect("=")
      let value = try expression()
      try expect("%}")
      return .set(name, value)
    default:
      throw error(keyword.isEmpty ? "expected a statement" : "unknown statement '\(keyword)'")
    }
  }

  // MARK: - Expressions, lowest precedence first

  private mutating func expression() throws(TemplateError) -> TemplateExpression { try pipe() }

  /// `value | function(arguments)`: the function with `value` first.
  private mutating func pipe() throws(TemplateError) -> TemplateExpression {
    var value = try or()
    while true {
      skipSpaces()
      guard lookingAt("|"), !lookingAt("||") else { return value }
      position += 1
      skipSpaces()
      let start = position
      guard let name = identifier() else { throw error("expected a function after |") }
      var arguments = [value]
      skipSpaces()
      if lookingAt("(") { arguments += try self.arguments() }
      value = .call(try function(name, arguments: arguments.count, at: start), arguments)
    }
  }

  private mutating func or() throws(TemplateError) -> TemplateExpression {
    var left = try and()
    while keyword("or") { left = .binary(.or, left, try and()) }
    return left
  }

  private mutating func and() throws(TemplateError) -> TemplateExpression {
    var left = try not()
    while keyword("and") { left = .binary(.and, left, try not()) }
    return left
  }

  private mutating func not() throws(TemplateError) -> TemplateExpression {
    if keyword("not") { return .not(try not()) }
    return try comparison()
  }

  private mutating func comparison() throws(TemplateError) -> TemplateExpression {
    let left = try additive()
    skipSpaces()
    for symbol in ["==", "!=", "<=", ">=", "<", ">"] where lookingAt(symbol) {
      position += symbol.count
      return .binary(TemplateOperator(rawValue: symbol)!, left, try additive())
    }
    if keyword("in") { return .binary(.in, left, try additive()) }
    return left
  }

  private mutating func additive() throws(TemplateError) -> TemplateExpression {
    var left = try multiplicative()
    while true {
      skipSpaces()
      guard let symbol = ["+", "-"].first(where: { lookingAt($0) }) else { return left }
      position += 1
      left = .binary(TemplateOperator(rawValue: symbol)!, left, try multiplicative())
    }
  }

  private mutating func multiplicative() throws(TemplateError) -> TemplateExpression {
    var left = try unary()
    while true {
      skipSpaces()
      guard let symbol = ["*", "/", "%"].first(where: { lookingAt($0) }), !lookingAt("%}") else {
        return left
      }
      position += 1
      left = .binary(TemplateOperator(rawValue: symbol)!, left, try unary())
    }
  }

  private mutating func unary() throws(TemplateError) -> TemplateExpression {
    skipSpaces()
    if lookingAt("-"), position + 1 < characters.count, !characters[position + 1].isNumber {
      position += 1
      return .negate(try unary())
    }
    return try primary()
  }

  private mutating func primary() throws(TemplateError) -> TemplateExpression {
    skipSpaces()
    guard position < characters.count else { throw error("expected an expression") }
    let character = characters[position]
    if character == "(" {
      position += 1
      let inner = try expression()
      try expect(")")
      return inner
    }
    if character == "[" {
      position += 1
      var items: [TemplateExpression] = []
      skipSpaces()
      if lookingAt("]") {
        position += 1
        return .list(items)
      }
      while true {
        items.append(try expression())
        skipSpaces()
        if lookingAt(",") {
          position += 1
          continue
        }
        try expect("]")
        return .list(items)
      }
    }
    if character == "\"" || character == "'" { return .literal(.string(try string(closedBy: character))) }
    if character.isNumber || character == "-" { return .literal(.number(try number())) }
    let start = position
    guard let name = identifier() else { throw error("unexpected '\(character)'") }
    switch name {
    case "true": return .literal(.bool(true))
    case "false": return .literal(.bool(false))
    case "null": return .literal(.null)
    default: break
    }
    skipSpaces()
    if lookingAt("(") {
      let arguments = try self.arguments()
      return .call(try function(name, arguments: arguments.count, at: start), arguments)
    }
    var path = [name]
    while lookingAt(".") {
      position += 1
      guard let member = identifier(allowingDigits: true) else {
        throw error("expected a member name after '.'")
      }
      path.append(member)
    }
    return .variable(path)
  }

  private mutating func arguments() throws(TemplateError) -> [TemplateExpression] {
    try expect("(")
    var arguments: [TemplateExpression] = []
    skipSpaces()
    if lookingAt(")") {
      position += 1
      return arguments
    }
    while true {
      arguments.append(try expression())
      skipSpaces()
      if lookingAt(",") {
        position += 1
        continue
      }
      try expect(")")
      return arguments
    }
  }

  private func function(_ name: String, arguments: Int, at start: Int) throws(TemplateError)
    -> TemplateFunction
  {
    guard let function = TemplateFunction(rawValue: name) else {
      throw error("unknown function '\(name)'", at: start)
    }
    guard function.arity.contains(arguments) else {
      let expected =
        function.arity.count == 1
        ? "\(function.arity.lowerBound)" : "\(function.arity.lowerBound) to \(function.arity.upperBound)"
      throw error("\(name) takes \(expected) arguments, not \(arguments)", at: start)
    }
    return function
  }

  // MARK: - Tokens

  private mutating func string(closedBy quote: Character) throws(TemplateError) -> String {
    position += 1
    var text = ""
    while position < characters.count {
      let character = characters[position]
      position += 1
      if character == quote { return text }
      if character == "\\", position < characters.count {
        let escaped = characters[position]
        position += 1
        switch escaped {
        case "n": text.append("\n")
        case "t": text.append("\t")
        case "r": text.append("\r")
        default: text.append(escaped)
        }
        continue
      }
      text.append(character)
    }
    throw error("a string is not closed")
  }

  private mutating func number() throws(TemplateError) -> Double {
    let start = position
    if lookingAt("-") { position += 1 }
    while position < characters.count, characters[position].isNumber || characters[position] == "." {
      position += 1
    }
    if position < characters.count, characters[position] == "e" || characters[position] == "E" {
      position += 1
      if lookingAt("+") || lookingAt("-") { position += 1 }
      while position < characters.count, characters[position].isNumber { position += 1 }
    }
    guard let value = Double(String(characters[start..<position])) else {
      throw error("invalid number", at: start)
    }
    return value
  }

  private mutating func identifier(allowingDigits: Bool = false) -> String? {
    let start = position
    while position < characters.count {
      let character = characters[position]
      let first = position == start
      guard
        character == "_" || (character.isASCII && character.isLetter)
          || (character.isASCII && character.isNumber && (!first || allowingDigits))
      else {
        break
      }
      position += 1
    }
    return position > start ? String(characters[start..<position]) : nil
  }

  /// Consumes the word `word` when it comes next, whole.
  private mutating func identifier(ifNext word: String) -> Bool {
    let start = position
    if identifier() == word { return true }
    position = start
    return false
  }

  private mutating func keyword(_ word: String) -> Bool {
    skipSpaces()
    return identifier(ifNext: word)
  }

  private mutating func skipSpaces() {
    while position < characters.count, characters[position].isWhitespace { position += 1 }
  }

  private func lookingAt(_ text: String) -> Bool {
    var index = position
    for character in text {
      guard index < characters.count, characters[index] == character else { return false }
      index += 1
    }
    return true
  }

  /// Where `text` next starts, from the current position.
  private func find(_ text: String) -> Int? {
    let wanted = Array(text)
    guard characters.count >= wanted.count else { return nil }
    for index in stride(from: position, through: characters.count - wanted.count, by: 1)
    where characters[index..<index + wanted.count].elementsEqual(wanted) {
      return index
    }
    return nil
  }

  private mutating func expect(_ text: String) throws(TemplateError) {
    skipSpaces()
    guard lookingAt(text) else {
      let found = position < characters.count ? "'\(characters[position])'" : "the end"
      throw error("expected '\(text)', found \(found)")
    }
    position += text.count
  }

  private func error(_ message: String, at offset: Int? = nil) -> TemplateError {
    let end = min(offset ?? position, characters.count)
    var line = 1
    var column = 1
    for character in characters[..<end] {
      if character == "\n" {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return TemplateError(message: message, line: line, column: column)
  }
}
