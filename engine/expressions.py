"""Formula expressions are untrusted input: parse them with `ast` and allow only a tiny language.

Allowed: numbers, names, `+ - * / ** %`, unary `+ -`, comparisons (`< <= > >= == !=`, not chained),
`& | ~` between conditions, and calls of the functions in `FUNCTIONS` with positional arguments.
Everything else (attribute access, indexing, strings, lambdas, keyword arguments, names starting with an
underscore, ...) is refused before numexpr ever sees the text. `names()` gives the inputs an expression
reads, which is how the formula graph derives its edges.

Both evaluation paths (numexpr over many rows, numpy over one) run `lower(expr)`, never the text as written, so
they accept the same expressions and compute the same values:
- every number is a 64-bit float (an integer beyond the 64-bit range is refused); the parts of an expression
  made only of numbers (arithmetic, comparisons, conditions, function calls) are computed once, here, and one
  that is not a finite real number (`2**1024`, `10**10**10`, `(-1)**0.5`, `1e400`, `1/0`, `log(0)`) is
  refused (numexpr would compute them in Python, with Python's errors);
- a condition (a comparison, or `& | ~` of conditions) used as a number is 1.0 or 0.0; a number used as a
  condition (the first argument of `where`, an operand of `& | ~`) means "not zero";
- comments are dropped; names numexpr reserves for its functions (`sum`, `max`, `sin`, ... `RESERVED`) are
  refused as names, as are the names of the allowed functions used without a call;
- an expression is at most `MAX_LENGTH` characters, `MAX_NODES` syntax nodes and `MAX_DEPTH` levels deep,
  so neither Python's compiler nor numexpr (255 registers) meets a limit of its own.
"""

from __future__ import annotations

import ast
import math
from functools import lru_cache

from .errors import shorten

# function name -> number of arguments numexpr takes
FUNCTIONS = {"where": 3, "minimum": 2, "maximum": 2, "ceil": 1, "floor": 1, "log": 1, "exp": 1, "sqrt": 1, "abs": 1}
# numexpr.expressions.functions (2.14): names numexpr binds before any variable, so none may be a variable
RESERVED = frozenset({
    "abs", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "ceil", "complex", "conj",
    "contains", "copy", "copysign", "cos", "cosh", "exp", "expm1", "floor", "fmod", "hypot", "imag", "isfinite",
    "isinf", "isnan", "log", "log10", "log1p", "log2", "max", "maximum", "min", "minimum", "nextafter", "ones_like",
    "prod", "real", "round", "sign", "signbit", "sin", "sinh", "sqrt", "sum", "tan", "tanh", "trunc", "where",
})  # fmt: skip
MAX_LENGTH = 2000
MAX_NODES = 250
MAX_DEPTH = 60
INT64 = 2**63 - 1

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
    except (RecursionError, MemoryError):
        raise UnsafeExpression(f"the expression nests deeper than {MAX_DEPTH} levels") from None
    _bounded(tree.body)
    _check(tree.body)
    return tree


def _bounded(root) -> None:
    """Refuse a tree over MAX_NODES nodes or MAX_DEPTH levels, walking it without recursion."""
    count, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop)):
            continue
        count += 1
        if depth > MAX_DEPTH:
            raise UnsafeExpression(f"the expression nests deeper than {MAX_DEPTH} levels (split it into named "
                                   "formulas)")  # fmt: skip
        if count > MAX_NODES:
            raise UnsafeExpression(f"the expression has more than {MAX_NODES} terms and operators (split it into "
                                   "named formulas)")  # fmt: skip
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


@lru_cache(maxsize=4096)
def lower(expr: str) -> tuple[ast.Expression, str]:
    """(syntax tree, numexpr text) of a checked expression, in the one semantics both paths share (see the
    module docstring); raises UnsafeExpression for a constant part that is not a finite real number."""
    tree = parse(expr)
    body = _number(_Lower().visit(tree.body))
    lowered = ast.fix_missing_locations(ast.Expression(body))
    return lowered, ast.unparse(rewritten(lowered, _signed))


def _signed(node):
    """A negative constant as a unary minus, so that the text keeps its precedence: `(-1.0) ** a`, which
    `ast.unparse` would otherwise write `-1.0 ** a`, that is -(1.0 ** a)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, float) and node.value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-node.value))
    return None


def rewritten(node, replace):
    """A copy of the syntax tree `node` in which each node, its children rewritten first, is replaced by
    `replace(node)` where that gives a node (None keeps it). What no replacement touches is shared with `node`,
    not copied (a deep copy of each tree cost more than the rest of loading the formulas), and `node` itself is
    never changed: the trees `lower` caches stay as they are."""
    fields, changed = {}, False
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            new = rewritten(value, replace)
        elif isinstance(value, list):
            new = [rewritten(v, replace) if isinstance(v, ast.AST) else v for v in value]
            changed |= any(a is not b for a, b in zip(new, value, strict=True))
            fields[name] = new
            continue
        else:
            new = value
        changed |= new is not value
        fields[name] = new
    if changed:
        node = ast.copy_location(type(node)(**fields), node)
    return replace(node) or node


def _is_condition(node) -> bool:
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        return True
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert)


def _call(name: str, *args) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _number(node):
    """`node` as a number: a condition becomes where(condition, 1.0, 0.0); a constant one, 1.0 or 0.0."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return ast.Constant(1.0 if node.value else 0.0)
    if _is_condition(node):
        return _call("where", node, ast.Constant(1.0), ast.Constant(0.0))
    return node


def _condition(node):
    """`node` as a condition: a number becomes (number != 0); a constant one, True or False."""
    if isinstance(node, ast.Constant):
        return node if isinstance(node.value, bool) else ast.Constant(node.value != 0)
    if _is_condition(node):
        return node
    return ast.Compare(node, [ast.NotEq()], [ast.Constant(0.0)])


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
         ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b, ast.Mod: lambda a, b: a % b}  # fmt: skip
_COMPARE_FOLD = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
                 ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}  # fmt: skip
_CALL_FOLD = {"minimum": min, "maximum": max, "ceil": math.ceil, "floor": math.floor, "abs": abs, "log": math.log,
              "exp": math.exp, "sqrt": math.sqrt}  # fmt: skip


class _Lower(ast.NodeTransformer):
    """Floats everywhere, conditions and numbers converted where each is used, and every part made only of
    numbers computed here: numexpr would otherwise compute it in Python, with Python's errors and types."""

    def visit_Constant(self, node):
        return ast.Constant(float(node.value))

    def visit_BinOp(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            left, right = _condition(left), _condition(right)
            known = [x.value for x in (left, right) if isinstance(x, ast.Constant)]
            if len(known) == 2:
                return ast.Constant(known[0] and known[1] if isinstance(node.op, ast.BitAnd) else known[0] or known[1])
            if known:  # True & c is c, False & c is False; True | c is True, False | c is c
                other = right if isinstance(left, ast.Constant) else left
                absorbing = isinstance(node.op, ast.BitOr)
                return ast.Constant(absorbing) if known[0] == absorbing else other
            return ast.BinOp(left, node.op, right)
        left, right = _number(left), _number(right)
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            return ast.Constant(_fold(node.op, left.value, right.value))
        if isinstance(node.op, (ast.Div, ast.Mod)) and isinstance(right, ast.Constant) and right.value == 0:
            raise UnsafeExpression(f"it divides by the constant {_constant(right.value)}")
        return ast.BinOp(left, node.op, right)

    def visit_UnaryOp(self, node):
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Invert):
            operand = _condition(operand)
            if isinstance(operand, ast.Constant):
                return ast.Constant(not operand.value)
            return ast.UnaryOp(node.op, operand)
        operand = _number(operand)
        if isinstance(operand, ast.Constant):
            return ast.Constant(-operand.value if isinstance(node.op, ast.USub) else operand.value)
        return ast.UnaryOp(node.op, operand)

    def visit_Compare(self, node):
        left, right = _number(self.visit(node.left)), _number(self.visit(node.comparators[0]))
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            return ast.Constant(bool(_COMPARE_FOLD[type(node.ops[0])](left.value, right.value)))
        return ast.Compare(left, node.ops, [right])

    def visit_Call(self, node):
        name = node.func.id
        args = [self.visit(a) for a in node.args]
        if name == "where":
            condition = _condition(args[0])
            if isinstance(condition, ast.Constant):
                return _number(args[1] if condition.value else args[2])
            return _call(name, condition, _number(args[1]), _number(args[2]))
        args = [_number(a) for a in args]
        if all(isinstance(a, ast.Constant) for a in args):
            return ast.Constant(_fold_call(name, [a.value for a in args]))
        return _call(name, *args)


def _fold_call(name: str, args: list[float]) -> float:
    shown = f"{name}({', '.join(_constant(a) for a in args)})"
    try:
        value = float(_CALL_FOLD[name](*args))
    except (ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value):
        raise UnsafeExpression(f"the constant part {shown} is not a finite real number")
    return value


def _fold(op, a: float, b: float) -> float:
    """A constant part of an expression, computed in float64; refused when it is not a finite real number."""
    symbol = _BINOPS[type(op)]
    shown = f"{_constant(a)} {symbol} {_constant(b)}"
    try:
        value = _FOLD[type(op)](a, b)
    except ZeroDivisionError:
        raise UnsafeExpression(f"the constant part {shown} divides by zero") from None
    except OverflowError:
        raise UnsafeExpression(f"the constant part {shown} overflows (it is beyond about 1.8e308)") from None
    if isinstance(value, complex):
        raise UnsafeExpression(f"the constant part {shown} is not a real number")
    if not math.isfinite(value):
        raise UnsafeExpression(f"the constant part {shown} overflows (it is beyond about 1.8e308)")
    return value


def _constant(value: float) -> str:
    return f"({value:g})" if value < 0 else f"{value:g}"


def names(tree: ast.Expression) -> list[str]:
    """The variable names an expression reads, in order of first appearance (function names excluded)."""
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in FUNCTIONS]
    found.sort(key=lambda node: (node.lineno, node.col_offset))
    return list(dict.fromkeys(node.id for node in found))


def _check(node) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise UnsafeExpression(f"the constant {shorten(repr(node.value))} is not a number")
        if isinstance(node.value, int) and node.value > INT64:
            raise UnsafeExpression(f"the integer {shorten(str(node.value))} is beyond the 64-bit range")
        if not math.isfinite(node.value):
            raise UnsafeExpression("a number in the expression is beyond the floating-point range (about 1.8e308)")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise UnsafeExpression(f"the name '{shorten(node.id)}' starts with an underscore")
        if node.id in FUNCTIONS:
            raise UnsafeExpression(f"'{node.id}' is a function and must be called")
        if node.id in RESERVED:
            raise UnsafeExpression(f"'{node.id}' is reserved (numexpr has a function of that name); rename it")
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
        raise UnsafeExpression(f"the function '{shorten(name)}' is not allowed")
    if node.keywords:
        raise UnsafeExpression(f"{name}() takes no keyword arguments")
    if len(node.args) != FUNCTIONS[name]:
        raise UnsafeExpression(f"{name}() takes {FUNCTIONS[name]} argument(s), not {len(node.args)}")
    for arg in node.args:
        _check(arg)
