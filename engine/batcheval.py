"""How a batch evaluates the methodologies at one chunk's kept rows (`batch.Batch.chunk` calls these).

Rows that lack some columns (a JSON Lines row without a key) are evaluated apart, each group of rows with the
columns it has and the `Points` whose scenarios take their placeholders from those columns, so that what a row
lacks comes from the base scenario (`evaluate_chunk`); each group goes through `rowplan.evaluate_rows`. While
`run_batch` runs, the methodology with the most formulas is evaluated in a worker thread beside the others
(`each_methodology`): numpy lets go of the interpreter in its loops, so the two share the machine's cores, and
the results and the first error come out in methodology order, as a serial loop gives them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .errors import ImpactError
from .points import Points
from .rowplan import evaluate_rows


def each_methodology(methods, pool, evaluate):
    """(methodology, evaluate(methodology)) for each methodology, in order; with `pool` (a ThreadPoolExecutor),
    the one with the most formulas is evaluated there meanwhile. An error is raised where the serial loop would
    raise it: at the first methodology, in order, whose evaluation failed."""
    if pool is None or len(methods) < 2:
        for method in methods:
            yield method, evaluate(method)
        return
    aside = max(methods, key=lambda m: len(m.formulas))
    coming = pool.submit(evaluate, aside)
    later = []  # (methodology, results, error) of those after `aside`, evaluated while it runs
    seen = False
    for method in methods:
        if method is aside:
            seen = True
        elif not seen:
            yield method, evaluate(method)
        else:
            try:
                later.append((method, evaluate(method), None))
            except ImpactError as exc:
                later.append((method, None, exc))
    yield aside, coming.result()
    for method, results, error in later:
        if error is not None:
            raise error
        yield method, results


def evaluate_chunk(batch, method, codes, combos, columns, n, lacking) -> dict[str, np.ndarray]:
    """Results at n rows; rows that lack some columns are evaluated apart, each group with the columns it
    has, so that what it lacks comes from the base scenario."""
    lacking = {c: a for c, a in lacking.items() if c in columns and a.any()}
    targets = batch.targets[method.name]
    if not lacking:
        return evaluate_rows(points_for(batch, frozenset(columns)), method, codes, combos, columns, n, targets)
    names = list(lacking)
    pattern = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(names):
        pattern |= lacking[name].astype(np.int64) << bit
    out: dict[str, np.ndarray] = {}
    for value in np.unique(pattern):
        rows = np.flatnonzero(pattern == value)
        have = {c: replace(col, values=col.values[rows]) for c, col in columns.items()
                if c not in names or not (int(value) >> names.index(c)) & 1}  # fmt: skip
        part = evaluate_rows(points_for(batch, frozenset(have)), method, codes[rows], combos, have, len(rows), targets)
        for name, array in part.items():
            out.setdefault(name, np.empty(n))[rows] = array
    return out


def points_for(batch, present: frozenset) -> Points:
    """The Points whose scenarios take their placeholders from the columns present."""
    if present not in batch._by_columns:
        numeric = {c for c, k in batch.kinds.items() if k in ("field", "override")}
        if numeric <= present:
            batch._by_columns[present] = batch.points
        else:
            held = {c: v for c, v in batch.points.placeholders.items() if c in present}
            batch._by_columns[present] = Points(batch.scenario, batch.tree, batch.methods, batch.points.overrides, held)
    return batch._by_columns[present]
