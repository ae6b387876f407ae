"""Formula expressions are untrusted input: parse them with `ast` and allow only a tiny language.

Allowed: numbers, names, `+ - * / ** %`, unary `+ -`, comparisons (`< <= > >= == !=`, not chained),
`& | ~` between conditions, and calls of the functions in `FUNCTIONS` with positional arguments.
Everything else (attribute access, indexing, strings, lambdas, keyword arguments, names starting with an
underscore, ...) is refused before numexpr ever sees the text. `names()` gives the inputs an expression
reads, which is how the formula graph derives its edges.
"""

from __future__ import annotations

import ast

# function name -> number of arguments numexpr takes
FUNCTIONS = {"where": 3, "minimum": 2, "maximum": 2, "ceil": 1, "floor": 1, "log": 1, "exp": 1, "sqrt": 1, "abs": 1}
MAX_LENGTH = 2000

_BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.Mod: "%",
    ast.BitAnd: "&",
    ast.BitOr: "|",
}
_UNARY = {ast.UAdd: "+", ast.USub: "-", ast.Invert: "~"}
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)

_DESCRIBE = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "a lambda",
    ast.Starred: "unpacking",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.IfExp: "an inline if (use where(cond, a, b))",
    ast.BoolOp: "'and'/'or' (use & and |)",
    ast.NamedExpr: "an assignment",
    ast.JoinedStr: "a string",
    ast.Await: "await",
}


class UnsafeExpression(ValueError):
    """The expression uses something outside the allowed language; the message says what."""


EXPECTED = "numbers, names, arithmetic, comparisons and the functions " + ", ".join(sorted(FUNCTIONS))


def parse(expr: str) -> ast.Expression:
    """Parse and check an expression, returning its syntax tree or raising UnsafeExpression."""
    if not isinstance(expr, str) or not expr.strip():
        raise UnsafeExpression("the expression is empty")
    if len(expr) > MAX_LENGTH:
        raise UnsafeExpression(f"the expression is {len(expr)} characters long, over the limit of {MAX_LENGTH}")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise UnsafeExpression(f"the expression is not valid syntax ({exc.msg})") from None
    _check(tree.body)
    return tree


def names(tree: ast.Expression) -> list[str]:
    """The variable names an expression reads, in order of first appearance (function names excluded)."""
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in FUNCTIONS]
    found.sort(key=lambda node: (node.lineno, node.col_offset))
    return list(dict.fromkeys(node.id for node in found))


def _check(node) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise UnsafeExpression(f"the constant {node.value!r} is not a number")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise UnsafeExpression(f"the name '{node.id}' starts with an underscore")
        if node.id in FUNCTIONS:
            raise UnsafeExpression(f"'{node.id}' is a function and must be called")
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left)
        _check(node.right)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand)
        return
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.ops[0], _COMPARE):
            raise UnsafeExpression("a comparison must compare two values with < <= > >= == or !=")
        _check(node.left)
        _check(node.comparators[0])
        return
    if isinstance(node, ast.Call):
        _check_call(node)
        return
    what = _DESCRIBE.get(type(node), f"'{type(node).__name__}'")
    if isinstance(node, ast.BinOp):
        what = f"the operator '{type(node.op).__name__}'"
    if isinstance(node, ast.UnaryOp):
        what = "'not' (use ~)" if isinstance(node.op, ast.Not) else f"'{type(node.op).__name__}'"
    raise UnsafeExpression(f"{what} is not allowed in a formula")


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise UnsafeExpression("only the listed functions may be called, by name")
    name = node.func.id
    if name not in FUNCTIONS:
        raise UnsafeExpression(f"the function '{name}' is not allowed")
    if node.keywords:
        raise UnsafeExpression(f"{name}() takes no keyword arguments")
    if len(node.args) != FUNCTIONS[name]:
        raise UnsafeExpression(f"{name}() takes {FUNCTIONS[name]} argument(s), not {len(node.args)}")
    for arg in node.args:
        _check(arg)
