"""A scenario's `sweep:` block: the points it asks for, as columns.

    sweep:
      grid:                      # every combination, the first key varying slowest
        output_tokens: [100, 1000, 10000]
        hardware: [h100-sxm, a100-sxm-80gb]
      zip:                       # paired lists of one length: one more axis of the grid
        input_tokens: [500, 2000]
        PUE: [1.1, 1.3]

A key is a scenario choice (model, precision, hardware, server, location, deployment, calibration: catalog
ids), a scenario field (input_tokens, output_tokens, gpus) or any input, constant or formula of the
methodologies run (a number, or a quantity such as "700 W"). Every value is checked where it is written
before anything is evaluated, and a sweep whose arrays would not fit in memory is refused with the size it
would need. So is one whose output would not: `check_output_fits` counts what writing it costs in the format
asked for (the Python objects and the text of a JSON document, CSV or a table), before any of it is built.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import ImpactError, Problem, shorten, suggest
from .numbers import NumberProblem
from .numbers import expected as expected_number
from .numbers import parse as parse_number
from .points import CHOICES, EXCLUSIVE, FIELD_RULES, FRACTIONAL, Column, kind_of, known_names, named_results
from .resolve import Value, check_range
from .scenario import Scenario
from .tree import Tree

SWEEPABLE = ("model, precision, hardware, server, location, deployment, calibration, input_tokens, output_tokens, "
             "cached_input_tokens, reasoning_tokens, gpus, or an input or formula name")  # fmt: skip
BYTES_PER_VALUE = 8 * 3  # a float64 per point for each name, with room for numexpr's temporaries


def available_memory() -> int:
    """Bytes of memory available to this process now (MemAvailable), else the physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(n: int, methods, where, what: str) -> None:
    """Refuse `n` points whose arrays would take more than half the memory available."""
    names = sum(len(m.names()) for m in methods)
    need = n * names * BYTES_PER_VALUE
    have = available_memory()
    if need > have / 2:
        most = max(1, int(have / 2 / (names * BYTES_PER_VALUE)))
        raise ImpactError(Problem(where, f"{what} of {n:,} points would need about {_bytes(need)} of memory "
                                  f"({_bytes(have)} available)", f"at most about {most:,} points"))  # fmt: skip


# peak bytes of memory per value written, per format, as benchmarks/bench_output_memory.py measures them (about
# 165 for JSON, 150 for CSV and Markdown, 780 for a terminal table), with a margin
OUTPUT_BYTES_PER_VALUE = {"json": 250, "csv": 200, "markdown": 200, "table": 1000}


def output_values(runs, fmt: str) -> int:
    """How many numbers writing a sweep's `runs` in `fmt` produces: every input and result per point in JSON,
    every result in CSV, the headline results in a table or Markdown."""
    first = runs[0]
    n, keys = len(next(iter(first.points.values()))), len(first.points)
    if fmt == "json":
        per_point = sum(len(r.inputs) + len(r.results) + (len(r.totals()) if r.requests != 1 else 0) for r in runs)
    elif fmt == "csv":
        per_point = sum(len(r.results) for r in runs)
    else:
        from .report import shown_results

        per_point = sum(len(shown_results(r)) for r in runs)
    return n * (per_point + keys + 1)


def check_output_fits(runs, fmt: str, where) -> None:
    """Refuse to write a sweep in `fmt` when building its output would take more than half the memory available."""
    if not runs or runs[0].points is None:
        return
    values = output_values(runs, fmt)
    per_value = OUTPUT_BYTES_PER_VALUE.get(fmt, OUTPUT_BYTES_PER_VALUE["json"])
    need, have = values * per_value, available_memory()
    if need > have / 2:
        n = len(next(iter(runs[0].points.values())))
        most = max(1, int(n * (have / 2) / need))
        hint = "--format csv needs the least memory per point" if fmt != "csv" else None
        message = f"writing a sweep of {n:,} points as {fmt} would need about {_bytes(need)} of memory " \
                  f"({_bytes(have)} available)"  # fmt: skip
        raise ImpactError(Problem(where, message, f"at most about {most:,} points", hint))


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


def columns(scenario: Scenario, tree: Tree, methods) -> tuple[int, dict[str, Column]]:
    """(number of points, one column per swept key) for the scenario's sweep."""
    doc = scenario.doc
    spec = doc.data["sweep"]
    grid, zipped = dict(spec.get("grid") or {}), dict(spec.get("zip") or {})
    for key in grid.keys() & zipped.keys():
        raise ImpactError(Problem(doc.loc(("sweep", "zip", key)), f"'{key}' is swept in both grid and zip",
                                  "each key in one of them"))  # fmt: skip
    if zipped:
        lengths = {key: len(values) for key, values in zipped.items()}
        if len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            for key, length in lengths.items():
                if length != lengths[first]:
                    shown = ", ".join(f"{k}: {v}" for k, v in lengths.items())
                    raise ImpactError(Problem(doc.loc(("sweep", "zip", key)), f"zip lists differ in length ({shown})",
                                              f"{lengths[first]} values, as many as {first}"))  # fmt: skip
    axes = [[key] for key in grid] + ([list(zipped)] if zipped else [])
    shape = [len(grid[a[0]]) for a in axes[: len(grid)]] + ([len(next(iter(zipped.values())))] if zipped else [])
    n = math.prod(shape)
    check_fits(n, methods, doc.loc(("sweep",)), "a sweep")
    index = np.unravel_index(np.arange(n), shape)
    out = {}
    for axis, keys in enumerate(axes):
        for key in keys:
            part = "grid" if key in grid else "zip"
            raw = (grid if part == "grid" else zipped)[key]
            values, levels = _values(key, raw, part, scenario, tree, methods)
            where = doc.loc(("sweep", part, key))
            source = f"{doc.file}:{where.line}: sweep.{part}.{key}"
            out[key] = Column(key, values[index[axis]], source, where, levels)
    return n, out


def _values(key: str, raw: list, part: str, scenario: Scenario, tree: Tree, methods):
    """(array, levels) for one swept key: codes into the ids for a choice, numbers otherwise."""
    doc = scenario.doc
    kind = kind_of(key, methods)
    if kind is None or key == "requests":
        names = known_names(methods)
        raise ImpactError(Problem(doc.loc(("sweep", part, key)), f"cannot sweep '{shorten(key)}': no scenario key, "
                                  "input, "
                                  "constant or formula of the methodologies run has that name", SWEEPABLE,
                                  suggest(key, names)))  # fmt: skip
    if kind == "choice":
        levels = []
        for i, value in enumerate(raw):
            where = doc.loc(("sweep", part, key, i))
            if not isinstance(value, str):
                raise ImpactError(Problem(where, f"{shorten(repr(value))} is not a catalog id",
                                          f"an id from {CHOICES[key]}"))  # fmt: skip
            tree.entry(CHOICES[key], value, where)
            levels.append(value)
        distinct = list(dict.fromkeys(levels))
        return np.array([distinct.index(v) for v in levels], dtype=np.intp), distinct
    numbers = []
    unit = next((m.unit_of(key) for m in methods if key in m.names()), "") if kind == "override" else ""
    for i, value in enumerate(raw):
        where = doc.loc(("sweep", part, key, i))
        numbers.append(_number(key, value, kind, unit, methods, where))
    return np.array(numbers, dtype=np.float64), None


def _number(key, value, kind, unit, methods, where) -> float:
    if isinstance(value, str) and kind == "field":
        raise ImpactError(Problem(where, f"{shorten(repr(value))} is not a number", FIELD_RULES[key][1]))
    try:
        value = parse_number(value, unit)
    except NumberProblem as exc:
        raise ImpactError(Problem(where, str(exc), expected_number(unit))) from None
    if kind == "field":
        low, expected = FIELD_RULES[key]
        if value < low or (key in EXCLUSIVE and value <= low):
            raise ImpactError(Problem(where, f"{key} = {value:g} is " + ("not above" if key in EXCLUSIVE else
                                      "less than") + f" {low}", expected))  # fmt: skip
        if key not in FRACTIONAL and value != int(value):
            raise ImpactError(Problem(where, f"{key} = {value:g} is not a whole number", expected))
        return float(value)
    for m in methods:  # the input's own minimum, maximum and integer rules, checked as a run checks them
        if key in m.inputs:
            check_range(m.inputs[key], Value(np.array([float(value)]), m.inputs[key].unit, "", where))
    return float(value)


def placeholders(cols: dict[str, Column]) -> dict[str, float]:
    """A valid value of each numeric column, to resolve the scenario with before columns replace it."""
    return {name: float(col.values[0]) for name, col in cols.items() if col.levels is None}


TOKEN_KEYS = {"input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"}


def plot(runs, path: str, x: str | None, y: str | None) -> None:
    """A result (default: the headline energy) against a swept key, one line per combination of the other
    swept values, a colour each (by accelerator when the hardware is swept), log axes where values span two
    decades, units on both axes. Written through engine.safefile."""

    from .errors import Location
    from .safefile import check_target
    from .validate import require_matplotlib, save_figure

    where = Location(None, path=f"--plot {path}")
    first = runs[0]
    if first.points is None:
        raise ImpactError(Problem(where, "the scenario has no sweep to plot", "a scenario with a sweep: block"))
    keys = list(first.points)
    x = x or next((k for k in keys if all(isinstance(v, float) for v in first.points[k])), keys[0])
    if x not in first.points:
        raise ImpactError(Problem(Location(None, path=f"--x {x}"), f"'{x}' is not swept",
                                  "one of " + ", ".join(keys), suggest(x, keys)))  # fmt: skip
    run, name = _pick_result(runs, y)
    check_target(path, where)
    matplotlib = require_matplotlib(path)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(first.points[x])
    others = [k for k in keys if k != x]
    label_of = [", ".join(f"{k}={_short(first.points[k][i])}" for k in others) for i in range(n)]
    values = run.results[name].value
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.get_cmap("tab10").colors
    numeric = all(isinstance(v, float) for v in first.points[x])
    for i, label in enumerate(dict.fromkeys(label_of)):
        idx = [j for j in range(n) if label_of[j] == label]
        xs = [first.points[x][j] for j in idx]
        ax.plot(xs, values[idx], marker="o", color=colours[i % len(colours)], label=label or name)
    if numeric and min(first.points[x]) > 0 and max(first.points[x]) / min(first.points[x]) >= 100:
        ax.set_xscale("log")
    if values.min() > 0 and values.max() / values.min() >= 100:
        ax.set_yscale("log")
    ax.set_xlabel(f"{x} [token]" if x in TOKEN_KEYS else x)
    unit = run.results[name].unit
    role = next((r for r, n_ in (run.method.headline if run.method else {}).items() if n_ == name), "")
    shown = f"{role} ({run.methodology}.{name})" if role else f"{run.methodology}.{name}"
    ax.set_ylabel(shown + (f" [{unit}]" if unit else ""))
    ax.set_title(f"{first.scenario.name}: {role or name} against {x}")
    ax.grid(True, alpha=0.3)
    if others:
        ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    save_figure(fig, path, 120)
    plt.close(fig)


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pick_result(runs, y: str | None):
    """(run, result name) for `--y NAME` or `--y methodology.NAME`; default: the headline energy of the first
    run that declares one (the memory methodology declares none)."""
    from .errors import Location

    if y is None:
        for run in runs:
            name = run.method.headline.get("energy") if run.method else None
            if name in run.results:
                return run, name
        return runs[0], next(iter(runs[0].results))
    methodology, name = named_results(y, [r.method for r in runs], Location(None, path=f"--y {y}"))[0]
    return next(r for r in runs if r.methodology == methodology), name
