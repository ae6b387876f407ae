"""Evaluate a request log: one request per row, read in chunks, totals and breakdowns accumulated.

A log is CSV (a header line, then one request per line) or JSON Lines (one object per line), read by one strict
schema per file (`requestlog`: the union of a JSON Lines file's keys, checked before any row; a row that lacks a
key takes the base scenario's value for it; duplicate columns refused; booleans are not numbers). Each column
names something that varies by request (`points.CHOICES`: model, hardware, location, ...; `points.FIELDS`:
input_tokens, output_tokens, gpus; or any input or formula of the methodologies) and overrides the base
scenario row by row; a `requests` column weighs a row as that many identical requests. A column that names
nothing is an error (a misspelt `ouput_tokens` would otherwise silently take the scenario's value), unless
it is listed in `ignore`.

The file is read in chunks of `CHUNK_ROWS` rows, so memory stays flat whatever its size (a plain CSV or Parquet
log by pyarrow, `arrowlog`, the next chunk read while one is evaluated; any other by pandas): each chunk
is validated column by column (`logcells`: a non-numeric, missing, negative or fractional token count, a
quantity in the wrong unit, an override out of its input's range or of its formula's rule; an unknown catalog
id), its distinct combinations of choices are resolved once and cached across chunks
(`points.Points`), what depends only on them is evaluated once per set of combinations and every other formula
once over the chunk (`rowplan`; the largest methodology in a worker thread beside the others, `batcheval`), and
totals are added up per `--by` group with `np.bincount` (`batchtotals`). A bad row stops the run with its
file, line and column, or with `skip_bad_rows` is counted and listed (the first `LISTED`) and left out of the
totals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import batchtotals as totals
from . import logcells as cells
from .batcheval import each_methodology, evaluate_chunk
from .batchsummary import summary  # noqa: F401  (the JSON document of a batch)
from .batchtotals import Totals, base_choice
from .errors import ImpactError, Location, Problem, suggest
from .logcolumns import Coded
from .points import (
    CACHED,
    CACHED_OF,
    CHOICES,
    FIELD_RULES,
    FIELDS,
    Column,
    Points,
    combinations,
    kind_of,
    known_names,
    named_results,
    used_codes,
)
from .requestlog import BadRow, Log
from .safefile import replacing

CHUNK_ROWS = 100_000
LISTED = 20  # bad rows listed by --skip-bad-rows; all are counted
WEIGHT = "requests"


class Batch:
    """A base scenario, its methodologies, and the columns of one log: evaluates the log chunk by chunk."""

    def __init__(self, scenario, tree, methods, overrides, log: Log, by=(), ignore=(), outputs=None, profile=None):
        self.scenario, self.tree, self.methods, self.log = scenario, tree, methods, log
        self.kinds = self._kinds(ignore)
        self.profile, self.grid_fallbacks, self.grid_charged = profile, 0, 0
        if profile is not None:
            from . import gridprofile

            gridprofile.prepare(self)
        self.by = self._by(list(by))
        self.outputs = outputs or {}  # methodology -> result names written per request (--out)
        extensive = {m.name: [n for n, f in m.formulas.items() if f.extensive] for m in methods}
        self.targets = {m.name: list(dict.fromkeys(extensive[m.name] + self.outputs.get(m.name, []))) for m in methods}
        self.points = Points(scenario, tree, methods, overrides, self._placeholders())
        self._by_columns: dict[frozenset, Points] = {}
        self.known_ids: dict[tuple[str, str], bool] = {}
        self.totals = Totals(sums={m.name: dict.fromkeys(extensive[m.name], 0.0) for m in methods})
        self.units = {m.name: {n: f.unit for n, f in m.formulas.items()} for m in methods}
        self.pool = None  # a ThreadPoolExecutor of one worker while run_batch runs (batcheval)

    def out_header(self) -> list[str]:
        """The --out CSV's columns: the line, then `methodology.result [unit]` for each result asked for."""
        return ["line"] + [f"{m}.{n} [{self.units[m][n]}]" if self.units[m][n] else f"{m}.{n}"
                           for m, names in self.outputs.items() for n in names]  # fmt: skip

    def fast_columns(self) -> tuple[set[str] | None, set[str] | None]:
        """(columns read as numbers, as texts) for the fast readers, or (None, None) where a batch needs the
        pandas reader: an hourly profile (it reads timestamps in a DataFrame), or --by a numeric column (its
        groups are named by pandas' text of the numbers)."""
        numeric = {c for c, k in self.kinds.items() if k in ("field", "override", "weight")}
        if self.profile is not None or numeric & set(self.by):
            return None, None
        return numeric, set(self.kinds) - numeric

    def _kinds(self, ignore) -> dict[str, str]:
        kinds, names = {}, known_names(self.methods) + [WEIGHT]
        for column in self.log.columns:
            if column in ignore:
                continue
            kind = "weight" if column == WEIGHT else kind_of(column, self.methods)
            if kind is None:
                line, at = self.log.key_location(column)
                where = Location(self.log.shown, line, at, f"$.{column}")
                raise ImpactError(Problem(where, f"unknown column '{column}': no scenario key, input or formula has "
                                          "that name", "model, hardware, location, input_tokens, output_tokens, "
                                          "requests, an input or formula name, or --ignore " + column,
                                          suggest(column, names)))  # fmt: skip
            kinds[column] = kind
        return kinds

    def _by(self, by: list[str]) -> list[str]:
        for name in by:
            if name not in self.kinds and name not in CHOICES:
                raise ImpactError(Problem(Location(None, path=f"--by {name}"), f"cannot group by '{name}'",
                                          "a column of the log or one of " + ", ".join(CHOICES),
                                          suggest(name, [*self.kinds, *CHOICES])))  # fmt: skip
        return by

    def _placeholders(self) -> dict[str, float]:
        """A valid value for each numeric column, to resolve scenarios with before columns replace it."""
        out = {}
        for column, kind in self.kinds.items():
            if kind == "field":
                out[column] = float(FIELD_RULES[column][0] or 1)
            elif kind == "override":
                item = next((m.inputs[column] for m in self.methods if column in m.inputs), None)
                low = item.minimum if item and item.minimum is not None else None
                high = item.maximum if item and item.maximum is not None else None
                out[column] = float(np.ceil(low)) if low is not None and low > 1 else min(1.0, high or 1.0)
        return out

    # -- one chunk ------------------------------------------------------------------------------------------

    def chunk(self, frame, lines, skip_bad: bool, absent=None) -> dict[str, dict[str, np.ndarray]]:
        """Validate and evaluate one chunk; add to the totals. `lines` are the rows' line numbers (or the
        first's); `absent` maps a column to the rows that lack it (they take the base scenario's value).
        Returns the kept rows' line numbers and, per methodology, the results asked for (`outputs`)."""
        n = len(frame)
        lines = np.arange(lines, lines + n) if np.isscalar(lines) else np.asarray(lines)
        absent = dict(absent or {})
        hourly = None
        if self.profile is not None:
            from . import gridprofile

            hourly = gridprofile.apply(self, frame, absent)
        absent = {c: a for c, a in absent.items() if c in self.kinds and a.any()}
        bad = np.zeros(n, dtype=bool)
        reasons: list[tuple[np.ndarray, str, Callable]] = []  # (mask, column, describe(i) -> (message, expected))
        numbers, choices = {}, {}
        for column, kind in self.kinds.items():
            series = frame[column]
            if kind == "label":
                if column in self.by:  # a row must say which group it is in
                    reasons.append((cells.missing(series), column, _no_label(column)))
                    bad |= reasons[-1][0]
                continue
            if kind == "choice":
                if column in absent:  # a row without the key: the base scenario's choice
                    series = series.where(~absent[column], base_choice(self.scenario, column) or None)
                    frame[column] = series
                codes, levels, mask, describe = self._choice(series, column)
                choices[column] = (codes, levels)
            else:
                values, mask, describe = cells.numbers(self, series, column, kind)
                if column in absent:
                    mask &= ~absent[column]
                numbers[column] = values
            reasons.append((mask, column, describe))
            bad |= mask
        if hourly is not None:
            reasons.append(hourly)
            bad |= hourly[0]
        if CACHED in numbers or CACHED_OF in numbers:
            reasons.append(self._cached_above_input(numbers, absent, bad))
            bad |= reasons[-1][0]
        codes, combos = np.zeros(n, dtype=np.intp), [{}]
        if choices and not bad.all():
            cols = [Column(c, np.where(bad, 0, k), c, Location(None), lv) for c, (k, lv) in choices.items()]
            codes, combos = combinations(cols, n)
            failed = self._unresolved(codes, combos, bad)
            if failed:
                mask = np.isin(codes, list(failed)) & ~bad
                reasons.append((mask, next(iter(choices)), lambda i: failed[int(codes[i])]))
                bad |= mask
        if bad.any():
            self._report_bad(reasons, bad, lines, skip_bad)
        keep = ~bad
        kept = int(keep.sum())
        self.totals.rows += kept
        out = {"line": lines[keep]}
        if kept == 0:
            return out
        if WEIGHT in numbers:
            weights = numbers.pop(WEIGHT)
            if WEIGHT in absent:
                weights = np.where(absent[WEIGHT], 1.0, weights)
            weights = weights[keep]
        else:
            weights = None
        self.totals.requests += float(weights.sum()) if weights is not None else kept
        columns = {c: Column(c, v[keep], f"{self.log.shown} column {c}", Location(self.log.shown, 1, path=c))
                   for c, v in numbers.items()}  # fmt: skip
        lacking = {c: a[keep] for c, a in absent.items() if c in columns}
        groups = totals.groups(self, frame, keep, kept)
        codes = codes[keep]

        def evaluate(method):
            mine = {c: col for c, col in columns.items() if c in FIELDS or c in method.names()}
            return evaluate_chunk(self, method, codes, combos, mine, kept, lacking)

        for method, results in each_methodology(self.methods, self.pool, evaluate):
            totals.add(self, method.name, results, weights, groups)
            wanted = self.outputs.get(method.name, [])
            out[method.name] = {name: results[name] for name in wanted}
        return out

    def _cached_above_input(self, numbers, absent, bad):
        """(mask, column, describe) of the rows whose cached input tokens exceed their input tokens."""
        request = self.scenario.entities["request"].data
        cached, total = (np.where(absent[c], float(request.get(c, 0)), numbers[c]) if c in absent
                         else numbers.get(c, float(request.get(c, 0))) for c in (CACHED, CACHED_OF))  # fmt: skip
        cached, total = np.broadcast_arrays(cached, total)
        with np.errstate(invalid="ignore"):
            mask = (cached > total) & ~bad
        column = CACHED if CACHED in numbers else CACHED_OF

        def describe(i):
            return (
                f"{cached[i]:g} cached input tokens is more than the {total[i]:g} input tokens",
                "cached_input_tokens <= input_tokens (the cached tokens are part of the input)",
            )

        return mask, column, describe

    def _choice(self, series, column):
        """(codes into levels, levels, bad mask, describe) for a column of catalog ids: missing or unknown
        ids are bad."""
        if isinstance(series, Coded):  # the fast readers' text column: already codes, in order of appearance
            codes, levels = series.codes, series.levels
        else:
            import pandas as pd

            codes, levels = pd.factorize(series, use_na_sentinel=True)
            levels = [str(v) for v in levels]
            codes = np.asarray(codes, dtype=np.intp)
        known = np.array([self._known(column, v) for v in levels] + [False], dtype=bool)
        mask = ~known[codes]  # a missing value, code -1, takes the trailing False
        catalog = CHOICES[column]

        def describe(i):
            if codes[i] < 0:
                return "the value is missing", f"an id from {catalog}"
            value = levels[codes[i]]
            hint = suggest(value, list(self.tree.catalog(catalog)))
            return f"unknown {column} '{value}'" + (f" ({hint})" if hint else ""), f"an id from {catalog}"

        return codes, levels, mask, describe

    def _unresolved(self, codes, combos, bad) -> dict[int, tuple[str, str]]:
        """{combination: (message, expected)} for the combinations that good rows use and that cannot be
        resolved (a model without a field a formula needs and no default, ...)."""
        failed = {}
        for i in used_codes(codes[~bad], len(combos)):
            try:
                self.points.resolve(combos[i])
            except ImpactError as exc:
                problem = exc.problems[0]
                where = f" ({problem.location.file}:{problem.location.line})" if problem.location.file else ""
                failed[int(i)] = (problem.message + where, problem.expected or "")
        return failed

    def _known(self, column: str, value: str) -> bool:
        key = (column, value)
        if key not in self.known_ids:
            known = value in self.tree.catalog(CHOICES[column])
            if not known and column == "model" and "/" in value:  # PROVIDER/NAME: an API model of the price table
                from .estimate import is_priced

                known = is_priced(self.tree, *value.split("/", 1))
            self.known_ids[key] = known
        return self.known_ids[key]

    def _report_bad(self, reasons, bad, lines, skip_bad) -> None:
        """Stop at the first bad row, or count them all and keep the first LISTED."""
        rows = np.flatnonzero(bad)
        self.totals.skipped += len(rows)
        for i in rows[: 1 if not skip_bad else max(0, LISTED - len(self.totals.bad))]:
            mask, column, describe = next(r for r in reasons if r[0][i])
            row = BadRow(int(lines[i]), column, *describe(i))
            if not skip_bad:
                raise ImpactError(row.problem(self.log))
            self.totals.bad.append(row)


def _no_label(column: str):
    return lambda i: ("the value is missing", f"a {column} to group the row by (--by {column})")


def output_names(methods, wanted: list[str]) -> dict[str, list[str]]:
    """methodology -> results written per request: `wanted` (NAME or methodology.NAME), else the headline."""
    if not wanted:
        return {m.name: [n for n in dict.fromkeys(m.headline.values()) if n in m.formulas] for m in methods}
    out: dict[str, list[str]] = {m.name: [] for m in methods}
    for item in wanted:
        for methodology, name in named_results(item, methods, Location(None, path=f"--result {item}")):
            out[methodology].append(name)
    return out


def run_batch(log_path, scenario, tree, *, methodologies=None, set=None, optimizations=None, by=(), ignore=(),
              out=None, results=(), skip_bad_rows=False, chunk_rows=CHUNK_ROWS, progress=None, log_format=None,
              mapping=None, sessions=False, grid_profile=None, grid_fallback=False,
              grid_live=None) -> Batch:  # fmt: skip
    """Evaluate every request of a log against a base scenario; returns the Batch with its `totals`.
    `out` (a CSV path) receives one row per request: its line and the results asked for. `progress`, if
    given, is called with (bytes read, file size) after each chunk. `log_format` (csv, jsonl, parquet, otel,
    a format name of the tree's catalogs/logformats/, or a logformat file) and `mapping` (a logformat file)
    say how to read the log (engine.logformat). `sessions` adds the distribution of per-session totals
    (engine.batchsummary); `grid_profile` (a CSV), else `grid_live` (a provider name, engine.intensity),
    else the profiles the regions name charge each timestamped row its hour's grid intensity, and
    `grid_fallback` lets rows outside them keep the annual one (engine.gridprofile)."""
    from .api import prepare
    from .logformat import choose

    log = Log.open(log_path, choose(log_format, mapping, tree, log_path), tree)
    scenario, methods, overrides = prepare(scenario, tree, methodologies, set, optimizations)
    if "sweep" in scenario.doc.data:
        raise ImpactError(Problem(scenario.doc.loc(("sweep",)), "a batch's base scenario cannot have a sweep",
                                  "a scenario without sweep:"))  # fmt: skip
    shown_by = list(by)
    if sessions:
        if "session" not in log.columns:
            wanted = "a log with a session column (or spans, whose trace id is the session)"
            raise ImpactError(Problem(Location(None, path="--sessions"), f"{log.shown} has no session column",
                                      wanted))  # fmt: skip
        by = [*shown_by, "session"] if "session" not in shown_by else shown_by
    from .gridprofile import choose as hourly

    profile = hourly(tree, log, grid_profile, grid_fallback, grid_live)
    batch = Batch(scenario, tree, methods, overrides, log, by, ignore, output_names(methods, list(results)), profile)
    batch.sessions, batch.shown_by = sessions, shown_by
    size = log.path.stat().st_size
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(replacing(out, Location(None, path=f"--out {out}"))) if out else None
        header = batch.out_header()
        if fh:
            fh.write(",".join(header) + "\n")
        numeric, text = batch.fast_columns()
        batch.pool = stack.enter_context(ThreadPoolExecutor(1)) if len(methods) > 1 else None
        stack.callback(setattr, batch, "pool", None)
        parts = stack.enter_context(contextlib.closing(log.chunks(chunk_rows, numeric, text)))
        for part in parts:
            rows = batch.chunk(part.frame, part.lines, skip_bad_rows, part.absent)
            if fh:
                _write_rows(fh, rows, len(header))
            if progress:
                progress(part.done, size)
    return batch


def _write_rows(fh, rows: dict, width: int) -> None:
    """Per-request results as CSV lines: the line, then each result asked for."""
    columns = [rows["line"]] + [rows[m][n] for m, found in rows.items() if m != "line" for n in found]
    if len(rows["line"]):
        block = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
        np.savetxt(fh, block, fmt=["%d"] + ["%.9g"] * (width - 1), delimiter=",")
