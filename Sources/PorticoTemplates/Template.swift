/// An inja template, parsed once (a syntax error, an unknown function or a wrong number of arguments is an
/// error then, with its line and column), rendered for each message. Rendering never fails: a variable or
/// member that is not there is null, which renders as nothing.
public struct Template: Sendable {
  private let nodes: [TemplateNode]
  /// What the template was made from.
  public let text: String

  public init(_ text: String) throws(TemplateError) {
    self.text = text
    nodes = try TemplateParser.parse(text)
  }

  public func render(for message: any TemplateMessage) -> String {
    var scope = Scope(message: message)
    var output = ""
    render(nodes, in: &scope, into: &output)
    return output
  }

  private struct Scope {
    let message: any TemplateMessage
    /// Loop and `set` variables, innermost last.
    var variables: [(name: String, value: TemplateValue)] = []

    func value(of path: [String]) -> TemplateValue {
      var current: TemplateValue
      if let local = variables.last(where: { $0.name == path[0] }) {
        current = local.value
      } else if let member = message.context.member(path[0]) {
        current = member
      } else {
        return .null
      }
      for key in path.dropFirst() {
        guard let next = current.member(key) else { return .null }
        current = next
      }
      return current
    }
  }

  private func render(_ nodes: [TemplateNode], in scope: inout Scope, into output: inout String) {
    for node in nodes {
      switch node {
      case .text(let text): output += text
      case .output(let expression): output += evaluate(expression, in: scope).rendered
      case .conditional(let branches, let otherwise):
        let chosen = branches.first { evaluate($0.condition, in: scope).isTruthy }?.body ?? otherwise
        render(chosen, in: &scope, into: &output)
      case .loop(let key, let value, let list, let body):
        let items: [(key: TemplateValue, value: TemplateValue)]
        switch evaluate(list, in: scope) {
        case .array(let values):
          items = values.enumerated().map { (key: TemplateValue.number(Double($0)), value: $1) }
        case .object(let object):
          items = object.entries.map { (key: TemplateValue.string($0.key), value: $0.value) }
        default: items = []
        }
        let depth = scope.variables.count
        for (index, item) in items.enumerated() {
          let loop = TemplateObject([
            ("index", .number(Double(index))), ("index1", .number(Double(index + 1))),
            ("is_first", .bool(index == 0)), ("is_last", .bool(index == items.count - 1)),
          ])
          scope.variables.append(("loop", .object(loop)))
          if let key { scope.variables.append((key, item.key)) }
          scope.variables.append((value, item.value))
          render(body, in: &scope, into: &output)
          scope.variables.removeSubrange(depth...)
        }
      case .set(let name, let expression):
        scope.variables.append((name, evaluate(expression, in: scope)))
      }
    }
  }

  private func evaluate(_ expression: TemplateExpression, in scope: Scope) -> TemplateValue {
    switch expression {
    case .literal(let value): return value
    case .variable(let path): return scope.value(of: path)
    case .list(let items): return .array(items.map { evaluate($0, in: scope) })
    case .call(let function, let arguments):
      return function.call(arguments.map { evaluate($0, in: scope) }, scope.message)
    case .not(let inner): return .bool(!evaluate(inner, in: scope).isTruthy)
    case .negate(let inner):
      if case .number(let value) = evaluate(inner, in: scope) { return .number(-value) }
      return .null
    case .binary(let operation, let left, let right):
      let lhs = evaluate(left, in: scope)
      // `and` and `or` look at the right side only when they must.
      switch operation {
      case .and: return .bool(lhs.isTruthy && evaluate(right, in: scope).isTruthy)
      case .or: return .bool(lhs.isTruthy || evaluate(right, in: scope).isTruthy)
      default: return Self.apply(operation, lhs, evaluate(right, in: scope))
      }
    }
  }

  private static func apply(_ operation: TemplateOperator, _ lhs: TemplateValue, _ rhs: TemplateValue)
    -> TemplateValue
  {
    switch operation {
    case .equal: return .bool(lhs == rhs)
    case .notEqual: return .bool(lhs != rhs)
    case .less: return .bool(TemplateFunction.less(lhs, rhs))
    case .greater: return .bool(TemplateFunction.less(rhs, lhs))
    case .lessOrEqual: return .bool(!TemplateFunction.less(rhs, lhs))
    case .greaterOrEqual: return .bool(!TemplateFunction.less(lhs, rhs))
    case .in:
      switch rhs {
      case .array(let values): return .bool(values.contains(lhs))
      case .object(let object): return .bool(object[lhs.rendered] != nil)
      case .string(let text): return .bool(text.contains(lhs.rendered))
      default: return .bool(false)
      }
    case .plus:
      if case .number(let a) = lhs, case .number(let b) = rhs { return .number(a + b) }
      return .string(lhs.rendered + rhs.rendered)
    case .minus, .times, .divide, .remainder:
      guard case .number(let a) = lhs, case .number(let b) = rhs else { return .null }
      switch operation {
      case .minus: return .number(a - b)
      case .times: return .number(a * b)
      case .divide: return b == 0 ? .null : .number(a / b)
      default: return b == 0 ? .null : .number(a.truncatingRemainder(dividingBy: b))
      }
    case .and, .or: return .null
    }
  }
}
