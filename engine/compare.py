"""Compare methodologies on one scenario: duration, energy per request and per 1k output tokens, emissions
and water, side by side, with the ratio of each methodology to the first.

Which result plays which role is declared by each formulas file's `headline:` mapping (duration, energy,
emissions, water, output_tokens), so a new methodology joins the comparison without code. Comparing needs at
least `energy`; a row a methodology does not define is left empty rather than guessed.

A column is a methodology with optimizations: `scope3`, or `scope3+speculative-decoding` (NAME+OPT+OPT...),
so "with and without speculative decoding" is `--methodology scope3 --methodology scope3+speculative-decoding`.
A column is named by what it evaluates: the scenario's own optimizations and those given for every column
(`--optimization`, applied to the columns whose methodology it covers) show in the name as well. A scenario
with a sweep gives one row per quantity and point, each labelled with its swept values.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import api
from .errors import ImpactError, Location, Problem
from .methodology import Methodology
from .scenario import Scenario, load_scenario
from .tree import Tree
from .verify import verify

# (row key, role, unit, per 1k output tokens?); LABELS are what a table shows
ROWS = [("duration", "duration", "s", False), ("energy", "energy", "Wh", False),
        ("energy_per_1k_output_tokens", "energy", "Wh", True), ("emissions", "emissions", "gCO2e", False),
        ("water", "water", "L", False)]  # fmt: skip
LABELS = {"energy_per_1k_output_tokens": "energy / 1k out"}


@dataclass
class Comparison:
    scenario: Scenario
    methodologies: list[str]  # column names: a methodology and its optimizations, scope3+speculative-decoding
    rows: list[dict]  # {"quantity", "unit", "values": {column: float|None}, "ratios": ..., ["point": {key: value}]}
    points: dict[str, list] | None = None  # a sweep: swept key -> its value at every point

    def to_dict(self) -> dict:
        out = {"scenario": self.scenario.name, "file": self.scenario.file, "baseline": self.methodologies[0],
               "methodologies": self.methodologies, "rows": self.rows}  # fmt: skip
        if self.points is not None:
            out["points"] = {"count": len(next(iter(self.points.values()))), "columns": self.points}
        return out


def comparable(tree: Tree) -> list[str]:
    """The installed methodologies that declare a headline energy, default ones (the baseline) first."""
    methods = sorted(tree.methodologies().values(), key=lambda m: (not m.default, m.name))
    return [m.name for m in methods if "energy" in m.headline]


def compare(source, tree: Tree, methodologies: list[str] | None = None, overrides=None,
            optimizations: list[str] | None = None) -> Comparison:  # fmt: skip
    """Compare the columns `methodologies` (NAME or NAME+OPT+...; default: every comparable methodology) on
    the scenario; `optimizations` apply to every column whose methodology they cover."""
    scenario = source if isinstance(source, Scenario) else load_scenario(source, tree)
    columns = [_column(tree, spec) for spec in (methodologies or comparable(tree))]
    shared = scenario.optimizations + [(o, Location(None, path=f"--optimization {o}")) for o in optimizations or []]
    _every_optimization_applies(tree, shared, [method for method, _, _ in columns])
    variants, names = [], []
    for method, own, where in columns:
        wanted = [(o, w) for o, w in shared if method.name in tree.optimization(o, w).applies_to]
        variant = api.optimize(tree, [method], wanted + [(o, where) for o in own])[0]
        name = "+".join([method.name, *variant.optimizations])
        if name in names:
            raise ImpactError(Problem(where, f"the column '{name}' is compared twice",
                                      "each methodology and optimizations once"))  # fmt: skip
        variants.append(variant)
        names.append(name)
    overrides = api.overrides_of(overrides)
    api.check_names(variants, {**scenario.overrides, **overrides})
    verify(tree, variants)
    results = api.run_prepared(scenario, tree, variants, overrides)
    runs = list(zip(variants, results, strict=True))
    points = runs[0][1].points
    count = len(next(iter(points.values()))) if points else 1
    rows = []
    for key, role, unit, per_1k in ROWS:
        for i in range(count):
            values = {name: _headline(method, result, role, per_1k, i)
                      for name, (method, result) in zip(names, runs, strict=True)}  # fmt: skip
            if all(v is None for v in values.values()):
                break
            base = values[names[0]]
            ratios = {m: (v / base if v is not None and base else None) for m, v in values.items()}
            row = {"quantity": key, "unit": unit, "values": values, "ratios": ratios}
            if points:
                row["point"] = {k: shown[i] for k, shown in points.items()}
            rows.append(row)
    return Comparison(scenario, names, rows, points)


def _column(tree: Tree, spec: str):
    """(methodology, its own optimizations, where) of a column `NAME[+OPT...]`, the optimizations checked."""
    where = Location(None, path=f"--methodology {spec}")
    name, *own = spec.split("+")
    method = tree.methodology(name, where)
    _require(method, "energy")
    for opt_name in own:
        opt = tree.optimization(opt_name, where)
        if name not in opt.applies_to:
            raise ImpactError(Problem(where, f"optimization '{opt_name}' does not apply to '{name}'",
                                      f"an optimization for {name} (impact methodologies)"))  # fmt: skip
    return method, own, where


def _every_optimization_applies(tree: Tree, optimizations, methods) -> None:
    for opt_name, where in optimizations:
        opt = tree.optimization(opt_name, where)
        if not any(m.name in opt.applies_to for m in methods):
            raise ImpactError(Problem(where, f"optimization '{opt_name}' applies to none of the columns compared (" +
                                      ", ".join(m.name for m in methods) + ")",
                                      "a methodology among " + ", ".join(opt.applies_to)))  # fmt: skip


def _headline(method: Methodology, result, role: str, per_1k: bool, i: int) -> float | None:
    """The value of `method`'s headline `role` at point `i` (per 1k output tokens with `per_1k`), else None."""
    name = method.headline.get(role)
    if name is None or (per_1k and "output_tokens" not in method.headline):
        return None
    value = _value(result, name, i)
    if per_1k:
        tokens = _value(result, method.headline["output_tokens"], i)
        value = value / tokens * 1000 if tokens else None
    return value


def _value(result, name: str, i: int = 0) -> float:
    table = result.results if name in result.results else result.inputs
    values = table[name].value.ravel()
    return float(values[i] if values.size > 1 else values[0])


def _require(method: Methodology, role: str) -> None:
    if role not in method.headline:
        raise ImpactError(Problem(method.location, f"methodology '{method.name}' defines no headline {role}, "
                                  "which impact compare needs",
                                  f"a headline: mapping in {method.file} with {role}: <formula>"))  # fmt: skip
