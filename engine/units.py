"""Units, through pint, which is imported only when a unit has to be understood.

The numexpr hot path never sees units: formulas and catalog fields declare theirs as text. pint is used to
convert a quantity a person typed (`--set P_gpu="0.7 kW"`) into the unit the methodology declares, and to
check unit strings. Besides pint's own units, the registry knows counts (token, parameter, FLOP, request,
accelerator, CPU: dimensionless) and a carbon dimension (gCO2e, kgCO2e, tCO2e) that cannot be mixed with
mass of anything else, and `common_year` (365 days: use lives of 8760 h a year, as Scope3 counts).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

DEFINITIONS = """
token = []
parameter = []
FLOP = []
request = []
accelerator = []
CPU = []
gCO2e = [carbon]
kgCO2e = 1000 * gCO2e
tCO2e = 1000000 * gCO2e
common_year = 365 * day
"""


class UnitProblem(ValueError):
    """A quantity that cannot be read, or whose dimension does not match; the message says which."""


@lru_cache(maxsize=1)
def registry():
    import pint  # deferred: pint takes a noticeable time to import and build

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for line in DEFINITIONS.strip().splitlines():
        ureg.define(line)
    return ureg


MAX_UNIT_TEXT = 100
_EXPONENT = re.compile(r"(?:\*\*|\^)\s*\(?\s*[+-]?\d{1,2}\s*\)?(?![\d.eE])")
_TOWER = re.compile(r"(?:\*\*|\^)[^*/^]*(?:\*\*|\^)")


def parse_unit(text: str):
    """The pint unit for a declared unit string ('' means dimensionless). Text that could make pint compute
    for ever is refused first: more than MAX_UNIT_TEXT characters, an exponent other than a small whole number,
    or a tower of exponents (`10**10**10`, which pint would evaluate as a Python integer)."""
    if not isinstance(text, str):
        raise UnitProblem(f"{text!r} is not a unit name")
    exponents = len(re.findall(r"\*\*|\^", text))
    if len(text) > MAX_UNIT_TEXT or _TOWER.search(text) or len(_EXPONENT.findall(text)) != exponents:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise UnitProblem(f"'{shown}' is not a unit impact reads (exponents are small whole numbers, such as mm**2)")
    ureg = registry()
    try:
        return ureg.Unit(text) if text.strip() else ureg.dimensionless
    except Exception as exc:  # pint raises several error types for bad unit text
        raise UnitProblem(f"'{text}' is not a known unit ({type(exc).__name__})") from None


def convert(text: str, unit: str) -> float:
    """Convert a quantity string such as '700 W' into `unit`, returning the magnitude."""
    ureg = registry()
    target = parse_unit(unit)
    try:
        quantity = ureg.Quantity(text)
    except Exception:
        raise UnitProblem(f"{text!r} is not a number or a quantity with a unit") from None
    if not hasattr(quantity, "to"):
        return float(quantity)
    try:
        return float(quantity.to(target).magnitude)
    except Exception:
        have = quantity.dimensionality
        raise UnitProblem(
            f"{text!r} is in {quantity.units:~} ({have}), which cannot be converted to "
            f"{unit or 'a pure number'} ({target.dimensionality})"
        ) from None


# the quantity a dimension measures, for messages: "power (W)" rather than "[mass] * [length] ** 2 / [time] ** 3"
_QUANTITIES = {
    (): "a pure number",
    (("[length]", 2), ("[mass]", 1), ("[time]", -3)): "power",
    (("[length]", 2), ("[mass]", 1), ("[time]", -2)): "energy",
    (("[time]", 1),): "a duration",
    (("[time]", -1),): "a rate",
    (("[carbon]", 1),): "emissions",
    (("[length]", 3),): "a volume",
    (("[mass]", 1),): "a mass",
    (("[length]", 1),): "a length",
    (("[carbon]", 1), ("[length]", -2), ("[mass]", -1), ("[time]", 2)): "a carbon intensity",
    (("[length]", 1), ("[mass]", -1), ("[time]", 2)): "a water intensity",
    (("[carbon]", 1), ("[time]", -1)): "emissions per time",
    (("[length]", 3), ("[time]", -1)): "a volume per time",
}


def quantity_name(dimensionality) -> str:
    """What a pint dimensionality measures ("power", "energy", ...), else the dimensionality itself."""
    key = tuple(sorted((str(k), int(v)) for k, v in dict(dimensionality).items() if v))
    return _QUANTITIES.get(key, str(dimensionality) or "a pure number")


def describe(unit: str) -> str:
    """A unit as a person reads it, with the quantity it measures: 'power (W)', 'a pure number'."""
    try:
        dims = parse_unit(unit).dimensionality
    except UnitProblem:
        return f"'{unit}'"
    name = quantity_name(dims)
    return f"{name} ({unit})" if unit.strip() else name


# ---- dimensional and magnitude check of formulas (check time only; never in the numexpr path)

SAMPLE = 1.7  # the magnitude given to every input: not 0 or 1, so a missing factor cannot hide


def check_units(method) -> list:
    """Problems with the units of `method`'s formulas: an expression whose dimension differs from its declared
    unit, that adds or compares incompatible quantities, or whose numbers are off by a conversion factor (a
    slip such as W*s declared as Wh). Each expression is evaluated twice, on plain numbers and on pint
    quantities with the declared units; the two must agree once converted to the declared unit. Dimensions
    are named as quantities with their units ("energy (Wh)"). A formula that fails is reported once: the
    formulas that read it are not checked (they would only repeat its error)."""
    from .errors import Problem

    ureg = registry()
    plain, quantities, problems, failed = {}, {}, [], set()
    for name, item in method.inputs.items():
        plain[name], quantities[name] = SAMPLE, ureg.Quantity(SAMPLE, parse_unit(item.unit))
    for name, c in method.constants.items():
        plain[name], quantities[name] = c.value, ureg.Quantity(c.value, parse_unit(c.unit))
    import ast

    for name in method.order:
        formula = method.formulas[name]
        if any(r in failed for r in formula.reads):
            failed.add(name)  # its input failed: reported there
            continue
        failed.add(name)  # until it passes
        tree = ast.parse(formula.expr, mode="eval").body
        declared = parse_unit(formula.unit)
        try:  # on plain numbers: a zero constant divided by, say, is a problem of its own, not of units
            number = float(_walk(tree, plain, None))
        except (ArithmeticError, ValueError, TypeError) as exc:
            problems.append(Problem(formula.location, f"formula '{name}' cannot be evaluated on sample values "
                                    f"({exc})", "an expression defined for positive inputs"))  # fmt: skip
            continue
        quantity = None
        try:
            quantity = _walk(tree, quantities, ureg)
            if not hasattr(quantity, "to"):
                quantity = ureg.Quantity(float(quantity), ureg.dimensionless)
            converted = float(quantity.to(declared).magnitude)
        except UnitProblem as exc:
            problems.append(Problem(formula.location, f"formula '{name}': {exc}", "operands of one dimension"))
            continue
        except Exception:  # pint's DimensionalityError: the result's dimension differs from the declared one
            shown = _named(quantity) if quantity is not None else "a quantity pint cannot combine"
            problems.append(Problem(formula.location, f"formula '{name}' gives {shown}, but declares "
                                    f"{describe(formula.unit)}",
                                    f"an expression in {formula.unit or 'a pure number'}"))  # fmt: skip
            continue
        if not math.isclose(converted, number, rel_tol=1e-9):
            factor = converted / number if number else float("nan")
            problems.append(Problem(formula.location, f"formula '{name}' is off by a factor of {factor:.6g}: its "
                                    f"terms give {quantity.units:~} and converting to '{formula.unit}' needs that "
                                    "factor, which the expression lacks",
                                    "a named constant with a unit for the conversion, e.g. s_per_h"))  # fmt: skip
        failed.discard(name)
        plain[name], quantities[name] = number, ureg.Quantity(number, declared)
    return problems


_PREFERRED = {"power": "W", "energy": "Wh", "a duration": "s", "emissions": "gCO2e", "a volume": "L", "a mass": "kg",
              "a length": "m"}  # fmt: skip


def _named(value) -> str:
    """What a value measures, with its unit as written, or the quantity's usual one when the written unit is a
    product that only its dimension explains: 'energy (Wh)', 'a duration (s)', 'a pure number'."""
    if not hasattr(value, "dimensionality") or not value.dimensionality:
        return "a pure number"
    name = quantity_name(value.dimensionality)
    units = f"{value.units:~}"
    if ("*" in units or "/" in units) and name in _PREFERRED:
        units = _PREFERRED[name]
    return f"{name} ({units})"


def _walk(node, env, ureg):
    """Evaluate a checked expression on plain numbers (ureg None) or pint quantities."""
    import ast

    import numpy as np

    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _walk(node.operand, env, ureg)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _walk(node.left, env, ureg), _walk(node.right, env, ureg)
        op = type(node.op).__name__
        if op in ("Add", "Sub", "Mod"):
            _same(left, right, {"Add": "adds", "Sub": "subtracts", "Mod": "takes the remainder of"}[op], ureg)
        return {"Add": lambda: left + right, "Sub": lambda: left - right, "Mult": lambda: left * right,
                "Div": lambda: left / right, "Pow": lambda: left ** _number(right), "Mod": lambda: left % right,
                "BitAnd": lambda: 1.0, "BitOr": lambda: 1.0}[op]()  # fmt: skip
    if isinstance(node, ast.Compare):
        _same(_walk(node.left, env, ureg), _walk(node.comparators[0], env, ureg), "compares", ureg)
        return 1.0
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_walk(a, env, ureg) for a in node.args]
        if name == "where":
            _same(args[1], args[2], "chooses between", ureg)
            return args[2] if _zero(args[1]) else args[1]
        if name in ("minimum", "maximum"):
            _same(args[0], args[1], f"takes the {name} of", ureg)
            a, b = args
            if hasattr(a, "dimensionality") and hasattr(b, "dimensionality"):
                first = a.magnitude >= b.to(a.units).magnitude
            elif _dimensionless(a) and _dimensionless(b):
                first = _number(a) >= _number(b)
            else:  # a quantity against a plain 0: the quantity is the larger by the sample values
                first = hasattr(a, "dimensionality")
            return a if first == (name == "maximum") else b
        if name in ("log", "exp"):
            if ureg is not None and not _dimensionless(args[0]):
                raise UnitProblem(f"{name}() of {_named(args[0])}; it needs a pure number")
            return getattr(np, name)(_number(args[0]))
        if name == "sqrt":
            return args[0] ** 0.5
        if name in ("ceil", "floor", "abs"):
            value = args[0]
            if ureg is not None and hasattr(value, "magnitude"):
                return ureg.Quantity(getattr(np, name)(value.magnitude), value.units)
            return getattr(np, name)(value)
    raise UnitProblem(f"cannot check the units of {ast.dump(node)[:40]}")


def _dimensionless(value) -> bool:
    return not hasattr(value, "dimensionality") or value.dimensionless


def _number(value) -> float:
    return float(value.to("dimensionless").magnitude) if hasattr(value, "to") else float(value)


def _zero(value) -> bool:
    """A bare 0 (a literal, not a quantity): it has every dimension, so `where(n > 0, E / n, 0)` is right."""
    return not hasattr(value, "dimensionality") and float(value) == 0


def _same(a, b, verb: str, ureg) -> None:
    if ureg is None or any(not hasattr(x, "dimensionality") and x == 0 for x in (a, b)):
        return  # a plain 0 compares with, or stands for, a quantity of any dimension
    dims = [x.dimensionality if hasattr(x, "dimensionality") else ureg.dimensionless.dimensionality for x in (a, b)]
    if dims[0] != dims[1]:
        raise UnitProblem(f"it {verb} {_named(a)} and {_named(b)}, which have different dimensions")
