/// A parsed template: text, `{{ expression }}` outputs, `{% if %}`/`{% else if %}`/`{% else %}`/
/// `{% endif %}`, `{% for x in list %}` (or `for key, value in object`) with `loop.index`, `loop.index1`,
/// `loop.is_first`, `loop.is_last`, `{% set name = expression %}`, and `{# comments #}`.
indirect enum TemplateNode: Sendable {
  case text(String)
  case output(TemplateExpression)
  /// Branches in order; the first whose condition holds renders, else `otherwise`.
  case conditional([(condition: TemplateExpression, body: [TemplateNode])], otherwise: [TemplateNode])
  case loop(key: String?, value: String, over: TemplateExpression, body: [TemplateNode])
  case set(String, TemplateExpression)
}

indirect enum TemplateExpression: Sendable {
  case literal(TemplateValue)
  /// A dotted path: a variable, then members or indexes (`order.items.0.sku`).
  case variable([String])
  case list([TemplateExpression])
  case call(TemplateFunction, [TemplateExpression])
  case not(TemplateExpression)
  case negate(TemplateExpression)
  case binary(TemplateOperator, TemplateExpression, TemplateExpression)
}

enum TemplateOperator: String, Sendable {
  case or, and, equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">",
    greaterOrEqual = ">=", `in`, plus = "+", minus = "-", times = "*", divide = "/", remainder = "%"
}

/// Why a template does not parse, and where in it (1-based line and column).
public struct TemplateError: Error, Equatable, CustomStringConvertible {
  public let message: String
  public let line: Int
  public let column: Int

  public var description: String { "line \(line), column \(column): \(message)" }
}
