/// An AuthConfig's `booleanExpr`: step names joined by `&&`, `||` and `!`, with parentheses, as Gloo reads
/// it (`(a || b) && !c`). `!` binds tightest, then `&&`, then `||`.
public indirect enum BooleanExpression: Hashable, Sendable {
  case name(String)
  case not(BooleanExpression)
  case and(BooleanExpression, BooleanExpression)
  case or(BooleanExpression, BooleanExpression)

  public struct ParseError: Error, Equatable, CustomStringConvertible {
    public let description: String
  }

  public init(parsing text: String) throws(ParseError) {
    var parser = Parser(tokens: try Self.tokens(of: text))
    self = try parser.disjunction()
    guard parser.isAtEnd else { throw ParseError(description: "unexpected '\(parser.peek!)'") }
  }

  /// Every step name the expression reads.
  public var names: Set<String> {
    switch self {
    case .name(let name): [name]
    case .not(let inner): inner.names
    case .and(let lhs, let rhs), .or(let lhs, let rhs): lhs.names.union(rhs.names)
    }
  }

  /// The expression's value, given each step's outcome. A step not run (skipped because the answer was
  /// already known) is asked for only when needed.
  public func evaluate(_ outcome: (String) -> Bool) -> Bool {
    switch self {
    case .name(let name): outcome(name)
    case .not(let inner): !inner.evaluate(outcome)
    case .and(let lhs, let rhs): lhs.evaluate(outcome) && rhs.evaluate(outcome)
    case .or(let lhs, let rhs): lhs.evaluate(outcome) || rhs.evaluate(outcome)
    }
  }

  private static func tokens(of text: String) throws(ParseError) -> [String] {
    var tokens: [String] = []
    var characters = text[...]
    while let first = characters.first {
      if first.isWhitespace {
        characters.removeFirst()
      } else if first == "(" || first == ")" || first == "!" {
        tokens.append(String(first))
        characters.removeFirst()
      } else if characters.hasPrefix("&&") || characters.hasPrefix("||") {
        tokens.append(String(characters.prefix(2)))
        characters.removeFirst(2)
      } else if isNameCharacter(first) {
        let name = characters.prefix(while: isNameCharacter)
        tokens.append(String(name))
        characters.removeFirst(name.count)
      } else {
        throw ParseError(description: "unexpected '\(first)'")
      }
    }
    return tokens
  }

  static func isNameCharacter(_ character: Character) -> Bool {
    character.isLetter || character.isNumber || character == "_" || character == "-" || character == "."
  }

  private struct Parser {
    let tokens: [String]
    var position = 0

    var isAtEnd: Bool { position == tokens.count }
    var peek: String? { isAtEnd ? nil : tokens[position] }

    mutating func disjunction() throws(ParseError) -> BooleanExpression {
      var result = try conjunction()
      while peek == "||" {
        position += 1
        result = .or(result, try conjunction())
      }
      return result
    }

    mutating func conjunction() throws(ParseError) -> BooleanExpression {
      var result = try unary()
      while peek == "&&" {
        position += 1
        result = .and(result, try unary())
      }
      return result
    }

    mutating func unary() throws(ParseError) -> BooleanExpression {
      guard let token = peek else { throw ParseError(description: "the expression ends too early") }
      position += 1
      switch token {
      case "!":
        return .not(try unary())
      case "(":
        let inner = try disjunction()
        guard peek == ")" else { throw ParseError(description: "a '(' is not closed") }
        position += 1
        return inner
      case ")", "&&", "||":
        throw ParseError(description: "unexpected '\(token)'")
      default:
        return .name(token)
      }
    }
  }
}
