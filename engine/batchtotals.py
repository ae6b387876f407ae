"""What a batch adds up (`Totals`): requests, rows and each extensive result, overall and per `--by` group.

Each kept row of a chunk is given its group (`groups`: the texts of its `--by` columns, or the base scenario's
choice for a key the log lacks), in the order groups first appear, as `pandas.factorize` orders them; each
result is then summed per group with `np.bincount` (`add`), row after row, so a total does not depend on
which reader read the log (a result that is one 0 broadcast to every row sums to 0.0 without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .logcolumns import Coded, group_codes, objects
from .requestlog import BadRow


@dataclass
class Totals:
    """What a batch adds up: requests and extensive results, overall and per --by group."""

    requests: float = 0.0
    rows: int = 0
    skipped: int = 0
    bad: list[BadRow] = field(default_factory=list)
    sums: dict[str, dict[str, float]] = field(default_factory=dict)  # methodology -> result -> total
    groups: dict[tuple, dict] = field(default_factory=dict)  # by-values -> {"requests", "sums": {m: {r: v}}}


def groups(batch, frame, keep, kept):
    """(codes of each kept row's --by group, the groups' values)."""
    if not batch.by:
        return np.zeros(kept, dtype=np.intp), [()]
    columns = [frame[name] if name in batch.kinds else None for name in batch.by]
    if all(c is None or isinstance(c, Coded) for c in columns):  # the fast readers': codes throughout
        parts = [Coded(c.codes[keep], c.levels) if c is not None
                 else Coded(np.zeros(kept, dtype=np.intp), [base_choice(batch.scenario, name)])
                 for c, name in zip(columns, batch.by, strict=True)]  # fmt: skip
        return group_codes(parts)
    import pandas as pd

    parts = []
    for name, column in zip(batch.by, columns, strict=True):
        if column is not None:
            parts.append(objects(column)[keep])
        else:  # not in the log: the base scenario's choice, the same for every row
            parts.append(np.full(kept, base_choice(batch.scenario, name), dtype=object))
    if len(parts) == 1:
        codes, levels = pd.factorize(pd.Series(parts[0]).astype(str))
        return np.asarray(codes), [(v,) for v in levels]
    index = pd.MultiIndex.from_arrays([pd.Series(p).astype(str) for p in parts])
    codes, levels = pd.factorize(index)
    return np.asarray(codes), [tuple(v) for v in levels]


def add(batch, method: str, results, weights, groups) -> None:
    """Add one methodology's results at a chunk's kept rows (times their weights) to the batch's totals."""
    codes, levels = groups
    sums = batch.totals.sums[method]
    for name in sums:
        values = results[name]
        if _zero_everywhere(values):  # a result that is 0 at every row (a broadcast 0): its sums are 0.0
            per_group = np.zeros(len(levels))
        else:
            weighted = values * weights if weights is not None else values
            per_group = np.bincount(codes, weights=weighted, minlength=len(levels))
        sums[name] += float(per_group.sum())
        for level, total in zip(levels, per_group, strict=True):
            group = batch.totals.groups.setdefault(level, {"requests": 0.0, "sums": {}})
            group["sums"].setdefault(method, {}).setdefault(name, 0.0)
            group["sums"][method][name] += float(total)
    if method == batch.methods[0].name:
        counts = np.bincount(codes, weights=weights, minlength=len(levels))
        for level, count in zip(levels, counts, strict=True):
            batch.totals.groups.setdefault(level, {"requests": 0.0, "sums": {}})["requests"] += float(count)


def _zero_everywhere(values) -> bool:
    """Whether `values` is one 0 broadcast to every row (`np.broadcast_to`, stride 0): np.bincount would add up
    0.0 row after row (times a row's weight, a finite number) and give exactly 0.0, so it need not run."""
    return values.ndim == 1 and len(values) > 0 and values.strides[0] == 0 and values[0] == 0


def base_choice(scenario, name: str) -> str:
    """The base scenario's catalog id for a choice (`hardware` is its accelerator, `location` its region)."""
    entity = {"hardware": "accelerator", "location": "region"}.get(name, name)
    entry = scenario.entities.get(entity)
    return entry.id if entry is not None else ""
