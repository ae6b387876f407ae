"""Evaluate a methodology over columns: many requests, or benchmark rows, in one vectorized pass.

`evaluate_columns(method, columns, targets)` takes a mapping of name -> equal-length arrays (a dict of numpy
arrays, or a pandas DataFrame partition) holding inputs (or formulas to override), and returns arrays for
the target formulas (default: all). Inputs without a column take their default; one with neither is an
error naming it. Values are range-checked like a scenario's.

`bind_rows(method, names, rows)` fills input columns from per-row selections of catalog entries (a row that
names a model, an accelerator, a precision...) through the methodology's own bindings, so a benchmark table is
read exactly as a scenario would be. Rows a binding cannot answer are returned with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np

from .errors import ImpactError, Location, Problem
from .evaluate import evaluate
from .methodology import Methodology
from .resolve import Value, check_range, first_binding
from .tree import Entry


def evaluate_columns(method: Methodology, columns: Mapping, targets=None) -> dict[str, np.ndarray]:
    """Arrays for `targets` (default: every formula) given input columns; see the module docstring."""
    known = set(method.names())
    given = {name: np.asarray(col, dtype=np.float64).ravel() for name, col in columns.items() if name in known}
    lengths = {len(col) for col in given.values()}
    if len(lengths) > 1:
        shown = ", ".join(f"{name}: {len(col)}" for name, col in given.items())
        raise ImpactError(Problem(Location(None, path="columns"), f"columns of different lengths ({shown})",
                                  "columns of one length"))  # fmt: skip
    n = lengths.pop() if lengths else 1
    order, inputs, constants = method.plan(given, targets)
    values = {name: Value(col, method.unit_of(name), "column") for name, col in given.items()}
    for name in constants:
        c = method.constants[name]
        values[name] = Value(np.full(n, c.value), c.unit, "constant")
    missing = [name for name in inputs if method.inputs[name].default is None]
    if missing:
        raise ImpactError(Problem(Location(None, path="columns"), "no column for " + ", ".join(missing),
                                  f"a column for every input of {method.name} that the results read"))  # fmt: skip
    for name in inputs:
        item = method.inputs[name]
        values[name] = Value(np.full(n, float(item.default)), item.unit, "default")
    for name, item in method.inputs.items():
        if name in values:
            check_range(item, values[name])
    return evaluate(method, order, values, n)


def bind_rows(method: Methodology, names: list[str], rows: list[dict[str, Entry]]):
    """(columns for the rows every binding could answer, indexes of those rows, {index: reason} for the rest)."""
    columns = {name: [] for name in names}
    kept, dropped = [], {}
    for i, entities in enumerate(rows):
        scenario = SimpleNamespace(entities=entities, missing={})
        row, reason = {}, None
        for name in names:
            item = method.inputs[name]
            misses: list = []
            found = first_binding(item, scenario, misses)
            if found is not None:
                row[name] = found[1]  # an uncertain field counts as its point value
            elif item.default is not None:
                row[name] = float(item.default)
            else:
                reason = "; ".join(text for _, text in misses) or f"nothing supplies {name}"
                break
        if reason:
            dropped[i] = reason
            continue
        kept.append(i)
        for name in names:
            columns[name].append(row[name])
    return {name: np.asarray(col, dtype=np.float64) for name, col in columns.items()}, kept, dropped
