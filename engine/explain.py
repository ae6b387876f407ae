"""Explain a result: its derivation tree, from the formula down to every input and where it came from.

A formula node has its expression, the expression with the values substituted, its value and unit and where
it is written; an input node has its value, unit and source (catalog file and line with the citation,
scenario line, --set, default or calibration); a constant likewise. A formula met twice is expanded once and
referred to after. `derivations(run)` gives the same for every formula as a flat mapping (for JSON output).
"""

from __future__ import annotations

import ast

from .api import Run
from .errors import ImpactError, Location, Problem, suggest


def _show(value) -> str:
    return f"{float(value[0]):.6g}"


def substituted(expr: str, values: dict) -> str:
    """`expr` with each name replaced by its value: `2 * P_m * n_in / A_f` -> `2 * 7.055e+10 * 1000 / 7.916e+15`."""

    class Substitute(ast.NodeTransformer):
        def visit_Call(self, node):  # keep function names, substitute their arguments
            node.args = [self.visit(arg) for arg in node.args]
            return node

        def visit_Name(self, node):
            return ast.Name(id=_show(values[node.id]), ctx=node.ctx) if node.id in values else node

    return ast.unparse(Substitute().visit(ast.parse(expr, mode="eval")))


def _values(run: Run) -> dict:
    values = {name: v.value for name, v in run.inputs.items()}
    values.update({name: r.value for name, r in run.results.items()})
    return values


def explain(run: Run, result: str) -> dict:
    """The derivation tree of `result` in `run`, as nested mappings."""
    method, values = run.method, _values(run)
    seen: set[str] = set()

    def node(name: str) -> dict:
        if name in run.inputs:
            value = run.inputs[name]
            kind = "constant" if name in method.constants else "input"
            return {"name": name, "kind": kind, "value": float(value.value[0]), "unit": value.unit,
                    "source": value.source}  # fmt: skip
        formula = method.formulas[name]
        out = {"name": name, "kind": "formula", "expr": formula.expr, "value": float(values[name][0]),
               "unit": formula.unit, "where": f"{formula.location.file}:{formula.location.line}"}  # fmt: skip
        if name in seen:
            return {**out, "repeated": True}
        seen.add(name)
        out["substituted"] = substituted(formula.expr, values)
        out["reads"] = [node(read) for read in formula.reads]
        return out

    return node(result)


def pick(runs: list[Run], result: str, methodology: str | None, where: Location) -> Run:
    """The run whose methodology defines `result` (the first, or the one named)."""
    candidates = [r for r in runs if methodology in (None, r.methodology)]
    for run in candidates:
        if result in run.results:
            return run
    names = sorted({name for r in candidates for name in r.results})
    raise ImpactError(
        Problem(
            where,
            f"unknown result '{result}'",
            "a result of " + ", ".join(r.methodology for r in candidates),
            suggest(result, names),
        )
    )


def derivations(run: Run) -> dict:
    """Every formula of `run`: expression, values substituted, and the names it reads."""
    values = _values(run)
    return {name: {"expr": f.expr, "substituted": substituted(f.expr, values), "reads": f.reads}
            for name, f in run.method.formulas.items() if name in values}  # fmt: skip
