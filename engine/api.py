"""The public Python API: open a methodology tree, load a scenario, run methodologies on it.

    from impact import run
    for r in run("scenarios/chatbot-llama70b-h100.yaml", set={"PUE": 1}):
        print(r.methodology, r.results["E"].value[0], r.results["E"].unit)

`run` returns one `Run` per methodology. A run holds its inputs (value, unit, source) and its results
(value arrays, unit, description); `Run.to_dict()` is the JSON contract of `impact run --format json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import plausible, points, sweep, uncertainty
from .checks import run_checks
from .errors import ImpactError, Location, Problem, shorten, suggest
from .evaluate import evaluate
from .methodology import apply
from .resolve import Value, check_range, resolve
from .scenario import Override, Scenario
from .scenario import load_scenario as _load_scenario
from .tree import Tree
from .verify import verify


@dataclass
class Result:
    name: str
    value: np.ndarray
    unit: str
    description: str
    extensive: bool


@dataclass
class Run:
    """One methodology evaluated on one scenario."""

    methodology: str
    version: str
    title: str
    scenario: Scenario
    inputs: dict[str, Value]
    results: dict[str, Result]
    requests: float = 1.0
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    optimizations: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    method: object = None  # the Methodology evaluated (optimizations applied), for explanations
    points: dict[str, list] | None = None  # a sweep: swept key -> its value at every point
    uncertainty: dict | None = None  # with samples: {"samples", "seed", "inputs", "results": {name: Spread}}

    def totals(self) -> dict[str, Result]:
        """Results that add up over requests, multiplied by the scenario's `requests`."""
        return {
            name: Result(name, r.value * self.requests, r.unit, r.description, True)
            for name, r in self.results.items()
            if r.extensive
        }

    def to_dict(self) -> dict:
        def plain(array):
            values = [float(x) for x in np.asarray(array).ravel()]
            return values[0] if len(values) == 1 else values

        out = {
            "methodology": self.methodology,
            "version": self.version,
            "optimizations": list(self.optimizations),
            "scenario": {
                "name": self.scenario.name,
                "file": self.scenario.file,
                **self.scenario.describe(),
                "requests": self.requests,
            },
            "inputs": {
                name: {"value": plain(v.value), "unit": v.unit, "source": v.source} for name, v in self.inputs.items()
            },
            "results": {name: {"value": plain(r.value), "unit": r.unit} for name, r in self.results.items()},
        }
        if self.requests != 1 and self.totals():
            out["totals"] = {name: {"value": plain(r.value), "unit": r.unit} for name, r in self.totals().items()}
        if self.points is not None:
            out["points"] = {"count": len(next(iter(self.points.values()))), "columns": self.points}
        if self.uncertainty is not None:
            u = self.uncertainty
            out["uncertainty"] = {
                "samples": u["samples"],
                "seed": u["seed"],
                "inputs": u["inputs"],
                "results": {
                    name: {
                        "p5": sp.p5,
                        "p50": sp.p50,
                        "p95": sp.p95,
                        "mean": sp.mean,
                        "unit": self.results[name].unit,
                        "sensitivity": [{"input": k, "rho": rho} for k, rho in sp.sensitivity],
                    }  # fmt: skip
                    for name, sp in u["results"].items()
                },
            }
        out["assumptions"] = list(self.assumptions)
        out["warnings"] = list(self.warnings)
        out["provenance"] = self.provenance
        return out


def open_tree(root: str | Path | None = None) -> Tree:
    """The methodology tree at `root`, else $IMPACT_ROOT, else the current directory when it holds formulas/ and
    catalogs/, else the shipped one (engine.tree.locate)."""
    return Tree(root)


def load_scenario(source: str | Path | Mapping, tree: Tree | None = None) -> Scenario:
    """A scenario from a YAML path or a mapping with the same keys."""
    return _load_scenario(source, tree or open_tree())


def parse_set(items) -> dict[str, Override]:
    """`NAME=VALUE` strings (as given to --set) into overrides."""
    overrides = {}
    for item in items:
        where = Location(None, path=f"--set {item}")
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise ImpactError(Problem(where, "not of the form NAME=VALUE", "e.g. --set PUE=1.1 or --set P_gpu='700 W'"))
        overrides[name] = Override(name, raw, f"--set {name}={raw}", where)
    return overrides


def run(
    scenario: str | Path | Mapping | Scenario,
    *,
    tree: Tree | None = None,
    root: str | Path | None = None,
    methodologies: list[str] | None = None,
    set: Mapping | list[str] | None = None,
    optimizations: list[str] | None = None,
    samples: int | None = None,
    seed: int | None = None,
) -> list[Run]:
    """Evaluate the scenario's methodologies (or `methodologies`) and return one Run each.

    `set` overrides inputs or formulas by name: a mapping of name -> number or quantity string, or a list
    of "NAME=VALUE" strings as on the command line. `optimizations` are applied after the scenario's own,
    in order, to each methodology they cover. A scenario with a `sweep:` gives results with one value per
    point. `samples` draws that many values of every uncertain input (a range or a distribution) with `seed`
    and adds percentiles and a sensitivity ranking to each run's `uncertainty`.
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ImpactError(Problem(Location(None, path=f"--seed {seed}"), f"the seed {seed} is not a whole number "
                                  "of 0 or more", "a seed such as 0 or 42"))  # fmt: skip
    tree = tree or open_tree(root)
    scenario, chosen, overrides = prepare(scenario, tree, methodologies, set, optimizations)
    return run_prepared(scenario, tree, chosen, overrides, samples, seed)


def run_prepared(scenario: Scenario, tree: Tree, chosen, overrides, samples=None, seed=None) -> list[Run]:
    """One Run per methodology of `chosen` (variants, their optimizations applied), as `prepare` returns them;
    engine.compare builds its own columns and evaluates them here."""
    if "sweep" in scenario.doc.data:
        if samples:
            raise ImpactError(Problem(scenario.doc.loc(("sweep",)), "a sweep cannot also be sampled (--samples)",
                                      "a sweep, or samples of one scenario"))  # fmt: skip
        return _sweep(scenario, tree, chosen, overrides)
    runs = []
    for method in chosen:
        order, values, warnings, assumptions = resolve(method, scenario, overrides)
        results = evaluate(method, order, values, 1)
        more_warnings, more_assumptions = run_checks(method, _env(values, results), scenario)
        run = _run(tree, method, scenario, values, results, [*warnings, *more_warnings],
                   [*scenario.notes, *assumptions, *more_assumptions])  # fmt: skip
        if samples and any(v.spread is not None for v in values.values()):
            run.uncertainty = _sample(method, order, values, samples, seed)
        runs.append(run)
    if samples and not any(r.uncertainty for r in runs):
        for r in runs:
            r.warnings.append(f"--samples {samples}: no input is uncertain (a range or a distribution), "
                              "so the results have no spread")  # fmt: skip
    return runs


def prepare(scenario, tree: Tree, methodologies=None, set=None, optimizations=None):
    """(scenario, methodologies with their optimizations applied, overrides): what `run` evaluates, also
    for a request log (engine.batch) and a dataframe partition (engine.frames)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, tree)
    overrides = overrides_of(set)
    if methodologies:
        chosen = [tree.methodology(name, Location(None, path=f"--methodology {name}")) for name in methodologies]
    else:
        chosen = [tree.methodology(name, where) for name, where in scenario.methodologies]
    wanted = scenario.optimizations + [(name, Location(None, path=f"--optimization {name}"))
                                       for name in optimizations or []]  # fmt: skip
    chosen = optimize(tree, chosen, wanted)
    check_names(chosen, {**scenario.overrides, **overrides})
    verify(tree, chosen)  # units and bindings, as impact check checks them (cached by the tree's content)
    return scenario, chosen, overrides


def overrides_of(set) -> dict[str, Override]:
    """Overrides from a mapping of name -> value (the API) or "NAME=VALUE" strings (--set)."""
    if isinstance(set, Mapping):
        return {k: Override(k, v, f"set {k}={v}", Location(None, path=f"set {k}")) for k, v in set.items()}
    return parse_set(set or [])


def _run(tree: Tree, method, scenario: Scenario, values, results, warnings, assumptions) -> Run:
    warnings = [*warnings, *plausible.entry_warnings(tree.schemas, scenario.entities, method)]
    table = {}
    for name in method.formulas:  # file order, which is the order a reader expects
        f = method.formulas[name]
        value = results[name] if name in results else values[name].value  # overridden: the given value
        table[name] = Result(name, value, f.unit, f.description, f.extensive)
    run = Run(
        method.name,
        method.version,
        method.title,
        scenario,
        values,
        table,
        scenario.requests,
        warnings,
        assumptions,
        method.optimizations,
        tree.provenance(method, method.optimizations, scenario.tables),
        method,
    )
    with np.errstate(all="ignore"):
        for name, total in run.totals().items():
            if not np.isfinite(total.value).all():
                raise ImpactError(Problem(scenario.doc.loc(("requests",)), f"the total of {method.name} {name} over "
                                          f"{run.requests:g} requests is not a finite number",
                                          "fewer requests"))  # fmt: skip
    return run


def _sweep(scenario: Scenario, tree: Tree, methods, overrides) -> list[Run]:
    """One run per methodology whose results are arrays, one value per point of the scenario's sweep."""
    n, cols = sweep.columns(scenario, tree, methods)
    codes, combos = points.combinations([c for c in cols.values() if c.levels is not None], n)
    evaluator = points.Points(scenario, tree, methods, overrides, sweep.placeholders(cols))
    runs = []
    for method in methods:
        numeric = {k: c for k, c in cols.items() if c.levels is None and (k in points.FIELDS or k in method.names())}
        results, values = evaluator.evaluate(method, codes, combos, numeric, n)
        # results come at every point already; an input the same at every point is one value: spread it out
        values = {k: replace(v, value=np.broadcast_to(v.value, (n,))) for k, v in values.items()}
        warnings, assumptions = evaluator.notes(method, combos)
        more_warnings, more_assumptions = run_checks(method, _env(values, results), scenario)
        warnings, assumptions = [*warnings, *more_warnings], [*assumptions, *more_assumptions]
        run = _run(tree, method, scenario, values, results, warnings, assumptions)
        run.points = {key: col.shown() for key, col in cols.items()}
        runs.append(run)
    return runs


def _env(values: dict[str, Value], results: dict) -> dict:
    """Every input and result of a run by name, as arrays (for its checks)."""
    return {**{name: v.value for name, v in values.items()}, **results}


def _sample(method, order, values: dict[str, Value], n: int, seed) -> dict:
    """Evaluate the methodology at n draws of its uncertain inputs; percentiles and sensitivity of each result."""
    spreads = {name: v.spread for name, v in values.items() if v.spread is not None}
    sweep.check_fits(n, [method], Location(None, path="--samples"), "--samples")
    draws = uncertainty.draw(spreads, n, seed)
    sampled = dict(values)
    for name, drawn in draws.items():
        sampled[name] = replace(values[name], value=drawn, location=spreads[name].location)
        if name in method.inputs:
            check_range(method.inputs[name], sampled[name])
    results = evaluate(method, order, sampled, n)
    described = {name: {"distribution": spreads[name].describe(), "source": values[name].source} for name in draws}
    return {"samples": n, "seed": seed, "inputs": described, "results": uncertainty.summarise(results, draws)}


def optimize(tree: Tree, methods, wanted) -> list:
    """The methodologies with each wanted optimization applied, in order, to those it covers."""
    for name, where in wanted:
        opt = tree.optimization(name, where)
        if not any(m.name in opt.applies_to for m in methods):
            raise ImpactError(Problem(where, f"optimization '{name}' applies to none of the methodologies run ("
                                      + ", ".join(m.name for m in methods) + ")",
                                      "a methodology among " + ", ".join(opt.applies_to)))  # fmt: skip
        methods = [apply(m, opt) if m.name in opt.applies_to else m for m in methods]
    return methods


def check_names(methods, overrides: dict[str, Override]) -> None:
    known = {name for m in methods for name in m.names()}
    problems = []
    for name, override in overrides.items():
        if name not in known:
            where = ", ".join(m.name for m in methods)
            problems.append(
                Problem(
                    override.location,
                    f"unknown name '{shorten(name)}'",
                    f"an input, constant or formula of {where}",
                    suggest(name, known),
                )
            )
    if problems:
        raise ImpactError(problems)
