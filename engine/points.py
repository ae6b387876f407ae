"""Evaluate a scenario at many points at once: a sweep, a request log, a dataframe partition.

A point differs from the base scenario in any of three ways, each given as a column:
- a choice (`CHOICES`: model, precision, hardware, server, location, deployment, calibration) names a catalog
  entry: a column of codes into its distinct values (`levels`);
- a scenario field (`FIELDS`: input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, gpus): numbers
  that replace the request's or the hardware's own, and so reach every input bound to them (times the input's `scale`);
- an override: numbers for any input, constant or formula of the methodologies, like `--set`.

Catalog lookups are done once per distinct combination of choices (a sweep over two GPUs resolves two
scenarios, a log of a million requests over three models resolves three), then every input becomes an
array: the per-combination values indexed by the points' combination codes, or the column itself. Each
formula is then evaluated once, over all points (`evaluate.evaluate`, numexpr). Values that are the same at
every point stay arrays of length one and are broadcast by numexpr.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import ImpactError, Location, Problem, suggest
from .evaluate import evaluate
from .resolve import Value, check_range, check_token_classes, resolve
from .scenario import Override, Scenario, vary
from .tree import Tree

CHOICES = {
    "model": "models",
    "precision": "precisions",
    "hardware": "accelerators",
    "server": "servers",
    "location": "regions",
    "deployment": "deployments",
    "calibration": "calibrations",
    "engine": "engines",
}
FIELDS = {"input_tokens": ("request", "input_tokens"), "output_tokens": ("request", "output_tokens"),
          "cached_input_tokens": ("request", "cached_input_tokens"),
          "reasoning_tokens": ("request", "reasoning_tokens"), "gpus": ("hardware", "gpus"),
          "concurrency": ("serving", "concurrency"), "request_rate": ("serving", "request_rate")}  # fmt: skip
TOKENS = "a non-negative whole number of tokens"
FIELD_RULES = {"input_tokens": (0, TOKENS), "output_tokens": (0, TOKENS), "cached_input_tokens": (0, TOKENS),
               "reasoning_tokens": (0, TOKENS), "gpus": (1, "a positive whole number of accelerators"),
               "concurrency": (1, "a number of requests decoded together, at least 1"),
               "request_rate": (0, "a number of requests per second above 0")}  # fmt: skip
FRACTIONAL = {"concurrency", "request_rate"}  # fields that need not be whole numbers
EXCLUSIVE = {"request_rate"}  # fields whose minimum is itself refused
# token classes of a request: `cached_input_tokens` is the part of `input_tokens` served from a prefix cache,
# so it can never exceed it; `reasoning_tokens` are decoded apart from `output_tokens`. Both default to 0.
CACHED, CACHED_OF = "cached_input_tokens", "input_tokens"


@dataclass
class Column:
    """What varies from point to point under one name: numbers, or codes into `levels` for a choice."""

    name: str
    values: np.ndarray
    source: str  # how reports cite it, e.g. "scenarios/sweep.yaml:12: sweep.grid.output_tokens"
    location: Location
    levels: list | None = None

    def shown(self) -> list:
        """The value at every point, as people read it."""
        if self.levels is not None:
            return [self.levels[i] for i in self.values]
        return [float(v) for v in self.values]


LABELS = ("session", "timestamp")  # log columns that label a request (for --by, --sessions), never evaluated


def kind_of(name: str, methods) -> str | None:
    """'choice', 'field', 'override' or 'label' for a column name, or None when nothing reads it."""
    if name in LABELS:
        return "label"
    if name in CHOICES:
        return "choice"
    if name in FIELDS:
        return "field"
    if any(name in m.names() for m in methods):
        return "override"
    return None


def known_names(methods) -> list[str]:
    return sorted({*CHOICES, *FIELDS, *LABELS, *(n for m in methods for n in m.names())})


def named_results(item: str, methods, where: Location) -> list[tuple[str, str]]:
    """The (methodology, result) pairs that `item` names, as NAME or methodology.NAME (--y, --result), or an
    ImpactError with the closest names."""
    method, _, name = item.rpartition(".")
    hits = [(m.name, name) for m in methods if name in m.formulas and method in ("", m.name)]
    if not hits:
        every = [f"{m.name}.{n}" for m in methods for n in m.formulas]
        raise ImpactError(Problem(where, f"no result '{item}'", "a result of the methodologies run, NAME or "
                                  "methodology.NAME, such as " + ", ".join(every[:3]),
                                  suggest(item, every + [n for m in methods for n in m.formulas])))  # fmt: skip
    return hits


def combinations(columns: list[Column], n: int) -> tuple[np.ndarray, list[dict]]:
    """(code of each point's combination of choices, the combinations as {name: value})."""
    if not columns:
        return np.zeros(n, dtype=np.intp), [{}]
    combined = np.zeros(n, dtype=np.int64)
    for col in columns:  # mixed radix: one integer per combination, then its distinct values
        combined = combined * len(col.levels) + col.values
    distinct, codes = distinct_values(combined)
    combos = []
    for code in distinct:
        combo = {}
        for col in reversed(columns):
            code, digit = divmod(int(code), len(col.levels))
            combo[col.name] = col.levels[digit]
        combos.append(dict(reversed(combo.items())))
    return codes.ravel(), combos


def distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_inverse=True)` for non-negative integers, in linear time when they are
    small (as combination codes are: a few models times a few regions)."""
    values = np.asarray(values, dtype=np.int64).ravel()
    top = int(values.max()) + 1 if len(values) else 0
    if top > 4 * len(values) + 1024:
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.ravel()
    present = np.zeros(top, dtype=bool)
    present[values] = True
    distinct = np.flatnonzero(present)
    rank = np.cumsum(present, dtype=np.intp) - 1
    return distinct.astype(np.int64), rank[values]


def used_codes(codes: np.ndarray, size: int) -> np.ndarray:
    """The distinct codes in range(size) that occur, ascending (`np.unique(codes)`, in linear time)."""
    return np.flatnonzero(np.bincount(np.asarray(codes, dtype=np.intp), minlength=size))


@dataclass
class Resolved:
    """One methodology resolved for one combination of choices."""

    order: list[str]
    values: dict[str, Value]
    warnings: list[str]
    assumptions: list[str]


class Points:
    """Resolve each combination of choices once; evaluate methodologies over columns of points."""

    def __init__(self, scenario: Scenario, tree: Tree, methods, overrides: dict[str, Override], placeholders: dict):
        self.scenario, self.tree, self.methods = scenario, tree, methods
        self.overrides = overrides  # --set and the like: the same at every point
        self.placeholders = placeholders  # name -> a valid value of each field or override column
        self._cache: dict[tuple, dict[str, Resolved] | ImpactError] = {}
        self._plans: dict[tuple, object] = {}  # engine.rowplan's Plans, by methodology and set of combinations

    def resolve(self, combo: dict) -> dict[str, Resolved]:
        """Each methodology resolved for one combination of choices (cached); raises ImpactError."""
        key = tuple(sorted(combo.items()))
        if key not in self._cache:
            try:
                self._cache[key] = self._resolve(combo)
            except ImpactError as exc:
                self._cache[key] = exc
        found = self._cache[key]
        if isinstance(found, ImpactError):
            raise found
        return found

    def _resolve(self, combo: dict) -> dict[str, Resolved]:
        scenario = vary(self.scenario, self.tree, combo) if combo else self.scenario
        entities = dict(scenario.entities)
        for name, (entity, field) in FIELDS.items():  # a column supplies it: make the binding answer
            if name in self.placeholders and entity in entities:
                entry = entities[entity]
                entities[entity] = replace(entry, data={**entry.data, field: self.placeholders[name]})
        scenario = replace(scenario, entities=entities)
        overrides = dict(self.overrides)
        for name, value in self.placeholders.items():
            if name not in FIELDS:
                overrides[name] = Override(name, value, name, Location(None, path=name))
        out = {}
        for m in self.methods:
            order, values, warnings, assumptions = resolve(m, scenario, overrides)
            out[m.name] = Resolved(order, values, warnings, [*scenario.notes, *assumptions])
        return out

    def evaluate(self, method, codes: np.ndarray, combos: list[dict], columns: dict[str, Column], n: int,
                 targets=None):  # fmt: skip
        """(results, values) of one methodology at n points: `codes` index `combos`, whose resolutions
        give every value no column supplies. With `targets`, only what they depend on is evaluated."""
        used = used_codes(codes, len(combos)) if len(combos) > 1 else np.zeros(1, dtype=np.intp)
        resolved = {int(i): self.resolve(combos[i])[method.name] for i in used}
        first = next(iter(resolved.values()))
        order = first.order
        if targets is not None:
            needed = set(method.plan(set(first.values) - set(method.inputs) - set(method.constants), targets)[0])
            order = [name for name in order if name in needed]
        read = {r for name in order for r in method.formulas[name].reads}
        values = {}
        for name, value in first.values.items():
            if name in read or name in method.formulas:  # an overridden formula is a result too
                per_combo = [resolved.get(i, first).values[name] for i in range(len(combos))]
                values[name] = self._column_value(method, name, value, per_combo, codes, columns)
        for name, value in values.items():
            if name in method.inputs and name in columns:
                check_range(method.inputs[name], value)
        check_token_classes(method, values)
        results = evaluate(method, order, values, n, None if targets is None else targets)
        for name in method.formulas if targets is None else targets:  # overridden: the given values
            if name not in results and name in values:
                results[name] = np.broadcast_to(values[name].value, (n,))
        return results, values

    def _column_value(self, method, name, value, per_combo, codes, columns) -> Value:
        source = column_of(method, name, value, columns)
        if source is not None:
            column, scale = source
            col = columns[column]
            if scale is None:  # an override column
                return Value(col.values, value.unit, col.source, col.location)
            return Value(col.values * scale, value.unit, col.source, col.location, value.binding)
        binding = value.binding
        numbers = np.array([v.value[0] for v in per_combo], dtype=np.float64)
        sources = list(dict.fromkeys(v.source for v in per_combo))
        array = numbers[:1] if np.all(numbers == numbers[0]) else numbers[codes]
        return Value(array, value.unit, " | ".join(sources), value.location, binding, value.spread)

    def notes(self, method, combos: list[dict]) -> tuple[list[str], list[str]]:
        """(warnings, assumptions) of one methodology over the combinations, each once."""
        warnings, assumptions = {}, {}
        for combo in combos:
            r = self.resolve(combo)[method.name]
            warnings.update(dict.fromkeys(r.warnings))
            assumptions.update(dict.fromkeys(r.assumptions))
        return list(warnings), list(assumptions)


def column_of(method, name: str, value: Value, columns: dict) -> tuple[str, float | None] | None:
    """(column, None) when an override column of the chunk gives `name`; (column, the input's scale) when a
    request-field column (FIELDS) gives the catalog field `name` is bound to; else None."""
    if name in columns and name not in FIELDS:
        return name, None
    binding = value.binding
    if binding is not None and binding.key_entity is None:
        for field_name, target in FIELDS.items():
            if target == (binding.entity, binding.field) and field_name in columns:
                return field_name, method.inputs[name].scale
    return None
