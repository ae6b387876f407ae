"""The numeric cells of a request-log column checked against what the column names: a request field (whole,
non-negative token counts; a positive number of accelerators), `requests` (a positive weight), an input (its
own minimum, maximum and whole-number rule, in its unit), or a formula it overrides.

A formula declares no range, so an override of one is held to a rule of its unit: it must be finite, and
when the formula measures a duration, an energy, a power, emissions, a mass or a volume it must also be
non-negative (a request does not take -1 s, nor give back energy). Other formulas (ratios, counts, pure
numbers) need only be finite. Cells are read by `numbers_of` (quantities with units, booleans
refused); this module says which rows are bad and why.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import numbers as quantities
from .logcolumns import Coded, cell, floats, objects
from .points import EXCLUSIVE, FIELD_RULES, FRACTIONAL

NON_NEGATIVE = ("a duration", "energy", "power", "emissions", "a mass", "a volume")


@lru_cache(maxsize=256)
def formula_minimum(unit: str) -> float | None:
    """0 when a formula in `unit` cannot be negative (see the module docstring), else None."""
    if not unit.strip():
        return None
    from .units import UnitProblem, parse_unit, quantity_name

    try:
        name = quantity_name(parse_unit(unit).dimensionality)
    except UnitProblem:
        return None
    return 0.0 if name in NON_NEGATIVE else None


def unit_of(batch, name: str) -> str:
    return next((m.unit_of(name) for m in batch.methods if name in m.names()), "")


def rule(batch, column: str, kind: str) -> tuple[float | None, float | None, bool, str, str]:
    """(minimum, maximum, whole numbers only, unit, expected) for a numeric column."""
    if kind == "field":  # a per-request mean of an aggregated row (a format's per_request) need not be whole
        low, expected = FIELD_RULES[column]
        mean = column in getattr(getattr(getattr(batch, "log", None), "layout", None), "means", ())
        return low, None, column not in FRACTIONAL and not mean, "", expected
    if kind == "weight":
        return None, None, False, "", "a positive number of requests"
    unit = unit_of(batch, column)
    item = next((m.inputs[column] for m in batch.methods if column in m.inputs), None)
    if item is not None:
        low, high, integer = item.minimum, item.maximum, bool(item.integer)
    else:
        formula = any(column in m.formulas for m in batch.methods)
        low, high, integer = (formula_minimum(unit) if formula else None), None, False
    expected = f"a number in {unit}".rstrip(" in") + (f" >= {low:g}" if low is not None else "")
    if high is not None:
        expected += f" and <= {high:g}"
    return low, high, integer, unit, expected


def numbers(batch, series, column: str, kind: str):
    """(values, bad mask, describe(i) -> (message, expected)) for one numeric column of a chunk."""
    low, high, integer, unit, expected = rule(batch, column, kind)
    values, unreadable = numbers_of(series, unit)
    mask = ~np.isfinite(values)
    exclusive = kind == "field" and column in EXCLUSIVE  # its minimum itself is refused
    if kind == "weight":
        mask |= values <= 0
    if exclusive:
        mask |= values <= low
    if low is not None:
        mask |= values < low
    if high is not None:
        mask |= values > high
    if integer:
        with np.errstate(invalid="ignore"):
            mask |= np.floor(values) != values

    def describe(i):
        raw, value = cell(series, i), values[i]
        if unreadable[i]:
            return cell_problem(raw, unit), expected
        if is_missing(raw):
            return "the value is missing", expected
        if not np.isfinite(value):
            return f"{value} is not finite", expected
        if low is not None and value < low:
            return f"{value:g} is less than {low:g}", expected
        if exclusive and value <= low:
            return f"{value:g} is not above {low:g}", expected
        if kind == "weight":
            return f"{value:g} is not positive", expected
        if integer and value != np.floor(value):
            return f"{value:g} is not a whole number", expected
        return f"{value:g} is more than {high:g}", expected

    return values, mask, describe


# -- cells to numbers ----------------------------------------------------------------------------------------


def numbers_of(series, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """(values in `unit`, NaN where missing or unreadable; mask of the unreadable cells) for a log column."""
    kind = getattr(series, "dtype", np.dtype(object)).kind
    n = len(series)
    if kind in "iuf":
        return floats(series), np.zeros(n, dtype=bool)
    values = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    if kind == "b":
        return values, ~bad
    cache: dict[str, float | None] = {}
    for i, raw in enumerate(objects(series)):
        if is_missing(raw):
            continue
        if isinstance(raw, str):
            if raw not in cache:
                try:
                    cache[raw] = quantities.parse(raw, unit)
                except quantities.NumberProblem:
                    cache[raw] = None
            number = cache[raw]
        else:
            number = _plain(raw)
        if number is None:
            bad[i] = True
        else:
            values[i] = number
    return values, bad


def _plain(raw) -> float | None:
    if isinstance(raw, (bool, np.bool_)) or not isinstance(raw, (int, float, np.integer, np.floating)):
        return None
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if np.isfinite(value) else None


def cell_problem(raw, unit: str) -> str:
    """Why a cell that `numbers_of` could not read is not a number."""
    if isinstance(raw, (bool, np.bool_)):
        return f"{bool(raw)} is a boolean, not a number"
    if isinstance(raw, str):
        if raw.strip().lower() in ("true", "false"):
            return f"{raw.strip()!r} is a boolean, not a number"
        try:
            quantities.parse(raw, unit)
        except quantities.NumberProblem as exc:
            return str(exc)
    if isinstance(raw, (int, float, np.integer, np.floating)):
        return f"{raw!r} is not a finite number"
    return f"{raw!r} is not a number"


def missing(series) -> np.ndarray:
    """Where a column's cells are empty."""
    if isinstance(series, Coded):
        empty = np.array([is_missing(t) for t in series.levels] + [True], dtype=bool)
        return empty[np.where(series.codes < 0, len(series.levels), series.codes)]
    return np.fromiter((is_missing(v) for v in objects(series)), dtype=bool, count=len(series))


def is_missing(value) -> bool:
    try:
        return value is None or value != value or (isinstance(value, str) and not value.strip())
    except (TypeError, ValueError):
        return False
