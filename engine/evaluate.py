"""Evaluate a methodology's formulas over numpy arrays with numexpr.

One scenario is an array of length one; a sweep or a request log is a longer array and takes the same
path. Each formula is evaluated once, in topological order, with an explicit `local_dict` holding only
the names it reads and an empty `global_dict` (numexpr otherwise looks names up in the caller's frame). A
single row skips numexpr, whose compile of each expression costs more than the arithmetic: numpy evaluates
the expression's checked syntax tree instead, with the same operators and functions.
Both paths run the expression as `expressions.lower` gives it (floats throughout, conditions and numbers
converted where each is used, constant parts computed once), so they accept the same expressions and give the
same values; tests/test_evaluate.py holds them to it over every shipped formula and a corpus of edge cases.
Every result must be finite: numexpr returns inf for a division by zero without raising, so each result is
checked and a bad one names the formula and the inputs that produced it. Comparisons give 0.0 or 1.0. numpy's
floating-point warnings are silenced here: a non-finite value is reported by that check, in our own words.
"""

from __future__ import annotations

import ast

import numpy as np

from . import expressions
from .errors import ImpactError, Problem
from .methodology import Methodology
from .resolve import Value


def evaluate(method: Methodology, order: list[str], values: dict[str, Value], n: int, keep=None) -> dict:
    """Arrays for every formula in `order`, given the resolved `values` (inputs, constants, overrides). With
    `keep`, only those results are returned, and each other one is let go as soon as no formula still to come
    reads it (a batch's chunk holds a few arrays at a time, not one per formula); a formula that fails is then
    evaluated again with every result kept, so that its message names the same inputs."""
    with np.errstate(all="ignore"):
        if keep is None:
            return _evaluate(method, order, values, n)
        try:
            return _evaluate(method, order, values, n, set(keep))
        except ImpactError:
            return _evaluate(method, order, values, n)


def _evaluate(method: Methodology, order: list[str], values: dict[str, Value], n: int, keep=None) -> dict:
    env = {name: np.asarray(v.value, dtype=np.float64) for name, v in values.items()}
    results = {}
    last = {}  # formula result -> the step after which nothing reads it
    if keep is not None:
        for step, name in enumerate(order):
            for read in method.formulas[name].reads:
                last[read] = step
    for step, name in enumerate(order):
        formula = method.formulas[name]
        local = {r: env[r] for r in formula.reads}
        try:
            if n == 1:  # one row: numpy on a compiled expression, without numexpr's per-expression compile
                out = _one_row(formula.expr, local)
            else:
                out = _many_rows(formula.expr, local)
        except Exception as exc:  # numexpr's (or numpy's) own errors: report them at the formula
            raise ImpactError(
                Problem(
                    formula.location,
                    f"formula '{name}' cannot be evaluated: {exc}",
                    "an expression numexpr can compute",
                )
            ) from None
        out = np.asarray(out, dtype=np.float64).reshape(-1)  # length n, or 1 when it is the same at every row
        if not np.isfinite(np.add.reduce(out)) and not np.isfinite(out).all():  # a sum is finite when all are
            bad = ~np.isfinite(out)
            i = int(np.argmax(bad))
            shown = ", ".join(f"{r} = {_at(env[r], i):g}" for r in formula.reads)
            what = "nan" if np.isnan(out[i]) else "infinite"
            where = f" (row {i + 1})" if n > 1 else ""
            raise ImpactError(
                Problem(
                    formula.location,
                    f"formula '{name}' = {formula.expr} is {what}{where} with {shown}",
                    "finite results",
                    _blame(method, formula.reads, values, env, i),
                )
            )
        env[name] = out
        results[name] = np.broadcast_to(out, (n,)) if len(out) != n else out
        if keep is not None:
            for read in [name, *formula.reads]:
                if read in results and read not in keep and last.get(read, -1) <= step:
                    del results[read], env[read]
    return results


def _blame(method: Methodology, reads, values: dict[str, Value], env, i, seen=None) -> str | None:
    """A hint naming the zero or non-finite input most likely at fault, with its source; a zero formula
    result is followed back to the input that made it zero."""
    seen = set() if seen is None else seen
    for name in reads:
        if name in seen or name not in env or (_at(env[name], i) != 0 and np.isfinite(_at(env[name], i))):
            continue
        seen.add(name)
        if name in values:
            return f"{name} = {_at(env[name], i):g} comes from {values[name].source}"
        found = _blame(method, method.formulas[name].reads, values, env, i, seen)
        if found:
            return f"{name} = {method.formulas[name].expr} = {_at(env[name], i):g}, where {found}"
    return None


def _mod(a, b):
    """numexpr's floating-point remainder, a - floor(a / b) * b (numpy's differs for large quotients)."""
    return a - np.floor(a / b) * b


_FUNCTIONS = {"where": np.where, "minimum": np.minimum, "maximum": np.maximum, "ceil": np.ceil, "floor": np.floor,
              "log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs, "_mod": _mod}  # fmt: skip


def _numexpr_mod(node):
    """`a % b` as numexpr computes it: a call of _mod (a name no formula may use: it starts with an underscore)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return ast.copy_location(ast.Call(ast.Name("_mod", ast.Load()), [node.left, node.right], []), node)
    return None


_CODE: dict[str, object] = {}


def _many_rows(expr: str, local: dict) -> np.ndarray:
    """An expression over arrays with numexpr, as `expressions.lower` writes it (numexpr is imported here, on
    first use: a single run and a batch's rows take the numpy path, and need not pay its import)."""
    import numexpr

    return numexpr.evaluate(expressions.lower(expr)[1], local_dict=local, global_dict={})


def _one_row(expr: str, local: dict) -> np.ndarray:
    """An expression on one row with numpy: the same operators and functions as numexpr (numexpr's %, true
    division, the FUNCTIONS of engine.expressions), evaluated from the syntax tree `expressions.lower`
    gives, with no builtins. tests/test_evaluate.py holds both paths to the same results."""
    code = _CODE.get(expr)
    if code is None:
        tree = expressions.rewritten(expressions.lower(expr)[0], _numexpr_mod)
        code = _CODE[expr] = compile(ast.fix_missing_locations(tree), "<formula>", "eval")
    with np.errstate(all="ignore"):  # like numexpr: inf and nan are values here, reported by the caller
        return eval(code, {"__builtins__": {}, **_FUNCTIONS}, local)  # noqa: S307 - a checked expression


def _at(array: np.ndarray, i: int) -> float:
    """Row i of an array, or its one value when it is the same at every row (length one, broadcast)."""
    return array[i] if len(array) > 1 else array[0]
