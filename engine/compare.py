"""Compare methodologies on one scenario: duration, energy per request and per 1k output tokens, emissions
and water, side by side, with the ratio of each methodology to the first.

Which result plays which role is declared by each formulas file's `headline:` mapping (duration, energy,
emissions, water, output_tokens), so a new methodology joins the comparison without code. Comparing needs at
least `energy`; a row a methodology does not define is left empty rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .api import run
from .errors import ImpactError, Location, Problem
from .methodology import Methodology
from .scenario import Scenario, load_scenario
from .tree import Tree

# (row key, role, unit, per 1k output tokens?); LABELS are what a table shows
ROWS = [("duration", "duration", "s", False), ("energy", "energy", "Wh", False),
        ("energy_per_1k_output_tokens", "energy", "Wh", True), ("emissions", "emissions", "gCO2e", False),
        ("water", "water", "L", False)]  # fmt: skip
LABELS = {"energy_per_1k_output_tokens": "energy / 1k out"}


@dataclass
class Comparison:
    scenario: Scenario
    methodologies: list[str]
    rows: list[dict]  # {"quantity", "unit", "values": {m: float|None}, "ratios": {m: float|None}}

    def to_dict(self) -> dict:
        return {"scenario": self.scenario.name, "file": self.scenario.file, "baseline": self.methodologies[0],
                "methodologies": self.methodologies, "rows": self.rows}  # fmt: skip


def comparable(tree: Tree) -> list[str]:
    """The installed methodologies that declare a headline energy, default ones (the baseline) first."""
    methods = sorted(tree.methodologies().values(), key=lambda m: (not m.default, m.name))
    return [m.name for m in methods if "energy" in m.headline]


def compare(source, tree: Tree, methodologies: list[str] | None = None, overrides=None,
            optimizations: list[str] | None = None) -> Comparison:  # fmt: skip
    scenario = source if isinstance(source, Scenario) else load_scenario(source, tree)
    names = list(methodologies or comparable(tree))
    methods = [tree.methodology(name, Location(None, path=f"--methodology {name}")) for name in names]
    for method in methods:
        _require(method, "energy")
    runs = run(scenario, tree=tree, methodologies=names, set=overrides, optimizations=optimizations)
    runs = {r.methodology: r for r in runs}
    rows = []
    for key, role, unit, per_1k in ROWS:
        values = {}
        for method in methods:
            result = runs[method.name]
            name = method.headline.get(role)
            if name is None or (per_1k and "output_tokens" not in method.headline):
                values[method.name] = None
                continue
            value = _value(result, name)
            if per_1k:
                tokens = _value(result, method.headline["output_tokens"])
                value = value / tokens * 1000 if tokens else None
            values[method.name] = value
        if all(v is None for v in values.values()):
            continue
        base = values[names[0]]
        ratios = {m: (v / base if v is not None and base else None) for m, v in values.items()}
        rows.append({"quantity": key, "unit": unit, "values": values, "ratios": ratios})
    return Comparison(scenario, names, rows)


def _value(result, name: str) -> float:
    table = result.results if name in result.results else result.inputs
    return float(table[name].value[0])


def _require(method: Methodology, role: str) -> None:
    if role not in method.headline:
        raise ImpactError(Problem(method.location, f"methodology '{method.name}' defines no headline {role}, "
                                  "which impact compare needs",
                                  f"a headline: mapping in {method.file} with {role}: <formula>"))  # fmt: skip
