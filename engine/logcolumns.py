"""The columns of a chunk of a request log as the fast readers give them (engine.arrowlog), and the few
operations a batch needs of any column, whichever reader made it.

A fast reader gives a chunk as `Columns`: each column a float64 array (NaN where a cell is empty), a `Coded`
text column (codes into its distinct texts, -1 where empty), or, for a column of a type it does not
convert itself, a pandas Series as the pandas reader would have made it. The pandas readers give a DataFrame.
`cell`, `floats` and `texts` read a column of any of these kinds; `first_appearance` orders codes as
`pandas.factorize` does (distinct values in the order they first appear), so that both paths give the same
groups in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .points import distinct_values


@dataclass
class Coded:
    """A text column: `levels[codes[i]]` is row i's text; code -1 is an empty cell."""

    codes: np.ndarray
    levels: list[str]

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int):
        code = int(self.codes[i])
        return None if code < 0 else self.levels[code]

    def ordered(self) -> Coded:
        """The same column with its levels in the order they first appear, unused ones dropped."""
        codes, order = first_appearance(self.codes, len(self.levels))
        return Coded(codes, [self.levels[i] for i in order])


class Columns:
    """A chunk's columns by name (what a DataFrame gives a batch: `frame[name]`, `name in frame`, its length)."""

    def __init__(self, data: dict, rows: int):
        self.data, self.rows = data, rows

    def __getitem__(self, name: str):
        return self.data[name]

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def __len__(self) -> int:
        return self.rows

    @property
    def columns(self) -> list[str]:
        return list(self.data)


def first_appearance(codes: np.ndarray, size: int) -> tuple[np.ndarray, list[int]]:
    """(codes renumbered 0, 1, ... in the order their values first appear, -1 kept; the old code of each
    new one) for codes in range(size) or -1."""
    codes = np.asarray(codes, dtype=np.intp)
    n = len(codes)
    present = codes >= 0
    if size <= 32:  # a few levels (models, regions): one comparison each
        first = np.array([np.argmax(hit) if (hit := codes == k).any() else n for k in range(size)], dtype=np.intp)
    else:
        first = np.full(size + 1, n, dtype=np.intp)  # the last slot takes the -1 codes, then is dropped
        np.minimum.at(first, np.where(present, codes, size), np.arange(n, dtype=np.intp))
        first = first[:size]
    used = np.flatnonzero(first < n)
    order = used[np.argsort(first[used], kind="stable")]
    rank = np.full(size + 1, -1, dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    return rank[np.where(present, codes, size)], [int(i) for i in order]


def group_codes(parts: list[Coded]) -> tuple[np.ndarray, list[tuple]]:
    """(each row's group, the groups' texts) over one or more text columns without empty cells, groups in the
    order they first appear (as `pandas.factorize` orders them)."""
    if len(parts) == 1:  # codes into distinct texts already
        codes, order = first_appearance(parts[0].codes, len(parts[0].levels))
        return codes, [(parts[0].levels[i],) for i in order]
    combined = np.zeros(len(parts[0]), dtype=np.int64)
    for part in parts:
        combined = combined * max(len(part.levels), 1) + part.codes
    distinct, inverse = distinct_values(combined)
    codes, order = first_appearance(inverse, len(distinct))
    levels = []
    for value in distinct[order]:
        key = []
        for part in reversed(parts):
            value, digit = divmod(int(value), max(len(part.levels), 1))
            key.append(part.levels[digit])
        levels.append(tuple(reversed(key)))
    return codes, levels


def cell(series, i: int):
    """Row i of a column, as read (for messages)."""
    if isinstance(series, (Coded, np.ndarray)):
        return series[i]
    return series.iloc[i]


def floats(series) -> np.ndarray:
    """A numeric column (dtype kind i, u or f) as float64, NaN where missing."""
    if isinstance(series, np.ndarray):
        return series.astype(np.float64, copy=False)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def objects(series) -> np.ndarray:
    """A column's cells as an object array (texts, numbers, None or NaN where missing)."""
    if isinstance(series, Coded):
        return np.array([series.levels[c] if c >= 0 else None for c in series.codes], dtype=object)
    if isinstance(series, np.ndarray):
        return series.astype(object)
    return series.to_numpy(dtype=object)
