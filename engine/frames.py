"""Evaluate a dataframe partition: the entry point for a distributed engine (dask, Spark).

    import dask.dataframe as dd
    from impact import evaluate_frame, frame_meta

    log = dd.read_csv("requests-*.csv")          # columns as in `impact batch`: model, input_tokens, ...
    results = log.map_partitions(evaluate_frame, "base.yaml", meta=frame_meta("base.yaml"))
    results["scope3.E"].sum().compute()

`evaluate_frame(frame, scenario)` reads the frame's columns exactly as `impact batch` reads a log's (scenario
keys, request fields, any input or formula name, `requests` as a weight) and returns a DataFrame with the
same index and one float column per headline result of each methodology (`results=` picks others), named
`methodology.result` (units in `.attrs["units"]`). A
mapping of column arrays gives a dict of arrays instead. Each worker process opens the tree and the scenario
once (cached by their paths) and resolves each combination of choices once. A bad row raises ImpactError
naming its position in the partition; clean the data first, or filter with `impact batch --skip-bad-rows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .batch import Batch, output_names


@dataclass
class _Partition:
    """What a Batch needs of its source, for a dataframe: rows are numbered from 1 within the partition."""

    shown: str
    columns: list[str]
    fmt: str = "frame"

    def column_of(self, line: int, column: str) -> int:
        return 1

    def key_location(self, column: str) -> tuple[int, int]:
        return 1, 1


@lru_cache(maxsize=16)
def _prepared(scenario: str, root, methodologies: tuple, sets: tuple, optimizations: tuple):
    from .api import open_tree, prepare

    tree = open_tree(root)
    return tree, *prepare(scenario, tree, list(methodologies) or None, list(sets), list(optimizations))


@lru_cache(maxsize=64)
def _batch(key: tuple, columns: tuple, results: tuple) -> Batch:
    tree, scenario, methods, overrides = _prepared(*key)
    source = _Partition("<partition>", list(columns))
    return Batch(scenario, tree, methods, overrides, source, outputs=output_names(methods, list(results)))


def evaluate_frame(frame, scenario, *, root=None, methodologies=(), set=(), optimizations=(), results=()):
    """Results for every row of `frame` (a pandas DataFrame, or a mapping of column arrays); see the module
    docstring. `results` picks them (NAME or methodology.NAME; default: each methodology's headline)."""
    import pandas as pd

    key = (str(scenario), None if root is None else str(root), tuple(methodologies), tuple(set), tuple(optimizations))
    mapping = isinstance(frame, Mapping)
    table = pd.DataFrame({k: np.asarray(v) for k, v in frame.items()}) if mapping else frame
    batch = _batch(key, tuple(str(c) for c in table.columns), tuple(results))
    names = {f"{m}.{n}": (m, n) for m, found in batch.outputs.items() for n in found}
    out = batch.chunk(table.reset_index(drop=True), 1, skip_bad=False) if len(table) else {}
    columns = {c: np.asarray(out[m][n], dtype=np.float64) if out else np.empty(0) for c, (m, n) in names.items()}
    if mapping:
        return columns
    result = pd.DataFrame(columns, index=table.index)
    result.attrs["units"] = {c: batch.units[m][n] for c, (m, n) in names.items()}
    return result


def frame_meta(scenario, **options):
    """An empty DataFrame with the columns `evaluate_frame` returns: dask's `meta=`."""
    import pandas as pd

    return evaluate_frame(pd.DataFrame({"output_tokens": np.empty(0)}), scenario, **options)
