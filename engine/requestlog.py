"""A request log on disk, read by one strict schema per file: CSV (a header line, then one request per line)
or JSON Lines (one object per line), in chunks, with what a bad row needs to be reported at its file, line and
column.

The columns of a file are fixed before any row is evaluated. A CSV file's are its header's; a name written
twice is refused (pandas would rename the second `x.1`), a header field too long for the csv module is
refused, and a UTF-8 byte-order mark (as Excel writes it) is read and dropped. A JSON Lines file is read
twice: a first pass checks that every line is a JSON object of scalar values (no array, no `null` line, no
duplicate key, no `NaN`) and collects the union of its keys with the line where each first appears, so a
misspelt key on line 40,000 is refused there, before anything is evaluated; the second pass yields the rows.
A key that a line lacks is *absent* on that row, which then takes the base scenario's value for it; a key
present with `null` is a missing value, a bad row.

Cells become numbers by `logcells.numbers_of`: a column the C parser read as numbers is taken as is; any
other cell is parsed by `engine.numbers.parse` in the column's unit (so `700 W` and `0.7 kW` both work, like
`--set`), and booleans (`True`, `true`) are refused as numbers.
"""

from __future__ import annotations

import csv
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ImpactError, Location, Problem, display_path
from .points import CHOICES, LABELS

FAST_READERS = True  # plain CSV and Parquet logs through pyarrow when it is installed (engine.arrowlog)
MAX_LINE = 1 << 20  # bytes in one line of a log: a longer one is refused rather than read into memory
ABSENT = object()  # a key that a JSON Lines object does not have


@dataclass
class BadRow:
    line: int
    column: str
    message: str
    expected: str

    def problem(self, log: Log) -> Problem:
        return Problem(Location(log.shown, self.line, log.column_of(self.line, self.column), f"$.{self.column}"),
                       self.message, self.expected)  # fmt: skip


@dataclass
class Chunk:
    """Rows of a log: a DataFrame, each row's line, the rows lacking each key (JSON Lines), bytes read."""

    frame: object
    lines: np.ndarray
    absent: dict[str, np.ndarray] = field(default_factory=dict)
    done: int = 0


def _refuse(shown: str, line: int, message: str, expected: str, column: int = 1, path: str = "$"):
    raise ImpactError(Problem(Location(shown, line, column, path), message, expected))


@dataclass
class Log:
    """A request log on disk: its reader, its columns (with where each first appears), its rows in chunks.
    `raw` are the file's own column names; `columns` what they become through the log's format."""

    path: Path
    shown: str
    fmt: str  # the reader: csv, jsonl, parquet, otel or records
    columns: list[str]
    first_seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # column -> (line, column)
    raw: list[str] = field(default_factory=list)
    layout: object = None  # the logformat.LogFormat
    tree: object = None

    @classmethod
    def open(cls, path: str | Path, layout=None, tree=None) -> Log:
        from . import logreaders
        from .logformat import LogFormat, _by_suffix

        path = Path(path)
        shown = display_path(path)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "no such file" if not path.exists() else "not a regular file"
            raise ImpactError(Problem(Location(shown, 0), what, "a CSV or JSON Lines file, one request per row"))
        layout = layout or LogFormat("plain", _by_suffix(path))
        fmt = layout.reader or _by_suffix(path)
        if fmt == "csv":
            raw, seen = _csv_header(path, shown)
        elif fmt == "jsonl":
            raw, seen = _jsonl_keys(path, shown, layout)
        elif fmt == "parquet":
            raw, seen = logreaders.parquet_columns(path, shown)
        elif fmt == "records":
            raw, seen = logreaders.records_keys(path, shown, layout)
        else:
            raw, seen = logreaders.otel_keys(path, shown, layout)
        columns = [layout.mapped_name(c) for c in raw if not layout.ignored(c)]
        seen = {layout.mapped_name(c): where for c, where in seen.items()}
        return cls(path, shown, fmt, columns, seen, raw, layout, tree)

    def key_location(self, column: str) -> tuple[int, int]:
        """(line, character column) where a column is named: the header, or its first JSON Lines object."""
        return self.first_seen.get(column, (1, 1))

    def source_of(self, column: str) -> str:
        """The file's own name for a column."""
        return next((m.source for m in self.layout.columns.values() if m.to == column), column)

    def chunks(self, rows: int, numeric: set[str] | None = None, text: set[str] | None = None):
        """Chunk after chunk of at most `rows` rows, mapped through the log's format. With `numeric` and `text`
        (the columns read as numbers and as texts), a plain CSV or Parquet log is read by the fast readers
        (engine.arrowlog) when pyarrow is installed."""
        from . import logreaders

        if FAST_READERS and numeric is not None and not self.layout.maps and self.fmt in ("csv", "parquet"):
            from . import arrowlog

            fast = arrowlog.chunks(self, rows, numeric, text or set())
            if fast is not None:
                yield from fast
                return
        readers = {"csv": self._csv_chunks, "jsonl": self._jsonl_chunks,
                   "parquet": lambda n: logreaders.parquet_chunks(self, n),
                   "otel": lambda n: logreaders.otel_chunks(self, n),
                   "records": lambda n: logreaders.records_chunks(self, n)}  # fmt: skip
        for chunk in readers[self.fmt](rows):
            if self.layout.rows_with:
                keep = _present(chunk.frame, self.layout.rows_with)
                if not keep.all():
                    chunk = Chunk(chunk.frame[keep].reset_index(drop=True), chunk.lines[keep],
                                  {c: a[keep] for c, a in chunk.absent.items()}, chunk.done)  # fmt: skip
            frame, absent = self.layout.apply(chunk.frame, chunk.absent, self.tree)
            yield Chunk(frame, chunk.lines, absent, chunk.done)

    def _csv_chunks(self, rows: int, skip: int = 0):
        """Chunks read by pandas, the columns named as `_csv_header` read them (pandas would keep a space
        after a name); with `skip`, from after the first `skip` rows (the fast reader read those)."""
        import pandas as pd

        from .logreaders import open_stream

        line = 2 + skip
        text = {c for c in self.raw if self.layout.mapped_name(c) in CHOICES or self.layout.mapped_name(c) in LABELS}
        header = {"header": None, "names": self.raw, "skiprows": 1 + skip}  # the header as _csv_header read it
        with open_stream(self.path, self.shown) as (fh, raw):
            reader = pd.read_csv(fh, chunksize=rows, dtype={c: str for c in text}, skip_blank_lines=False,
                                 skipinitialspace=True, encoding="utf-8-sig", keep_default_na=False,
                                 na_values=[""], index_col=False, **header)  # fmt: skip
            while True:
                try:
                    with warnings.catch_warnings():  # a column of mixed types is ours to read, cell by cell
                        warnings.simplefilter("ignore")
                        warnings.simplefilter("error", pd.errors.ParserWarning)
                        frame = next(reader)
                except StopIteration:
                    return
                except (ValueError, OSError, EOFError, pd.errors.ParserError, pd.errors.ParserWarning) as exc:
                    self._long_line(line)  # pandas names the line in its own words, or (the first) not at all
                    _refuse(self.shown, line, f"cannot read the log: {exc}".splitlines()[0], "well-formed CSV")
                yield Chunk(frame, np.arange(line, line + len(frame)), {}, raw.tell())
                line += len(frame)

    def _long_line(self, start: int) -> None:
        """Refuse the first line from `start` on with more fields than the header, if there is one."""
        import io

        from .logreaders import open_stream

        with open_stream(self.path, self.shown) as (fh, _):
            text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text, skipinitialspace=True)
            try:
                for row in reader:
                    if reader.line_num >= start and len(row) > len(self.raw):
                        _refuse(self.shown, reader.line_num, f"the line has {len(row)} fields, more than the "
                                f"header's {len(self.raw)}", "one field per column of the header")  # fmt: skip
            except csv.Error:
                return

    def _jsonl_chunks(self, rows: int):
        import pandas as pd

        from .logreaders import open_stream

        records, lines = [], []
        flat = self.layout.maps
        with open_stream(self.path, self.shown) as (fh, raw):
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                row = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
                records.append(flatten(row) if flat else row)
                lines.append(number)
                if len(records) == rows:
                    yield records_chunk(pd, self.raw, records, lines, raw.tell())
                    records, lines = [], []
            if records:
                yield records_chunk(pd, self.raw, records, lines, raw.tell())

    def column_of(self, line: int, column: str) -> int:
        """The 1-based character column where `column`'s value starts on `line` (read again, for messages)."""
        from .logreaders import open_stream

        if self.fmt not in ("csv", "jsonl"):
            return 1
        column = self.source_of(column)
        text = None
        with open_stream(self.path, self.shown) as (fh, _):
            for number, found in enumerate(fh, 1):
                if number == line:
                    text = found.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace")
                    break
        if text is None:
            return 1
        if self.fmt == "jsonl":
            return max(text.find(f'"{column.split(".")[0]}"'), 0) + 1
        if column not in self.raw or '"' in text:
            return 1
        fields = text.rstrip("\r\n").split(",")
        index = self.raw.index(column)
        return sum(len(f) + 1 for f in fields[:index]) + 1


def records_chunk(pd, keys: list[str], records: list[dict], lines: list[int], done: int) -> Chunk:
    """A Chunk of dict records over `keys`; a key a record lacks is absent on that row."""
    data, absent = {}, {}
    for key in keys:
        values = [r.get(key, ABSENT) for r in records]
        mask = np.fromiter((v is ABSENT for v in values), dtype=bool, count=len(values))
        if mask.any():
            absent[key] = mask
            values = [None if v is ABSENT else v for v in values]
        data[key] = pd.Series(values, dtype=object)
    return Chunk(pd.DataFrame(data), np.asarray(lines, dtype=np.int64), absent, done)


def flatten(row: dict, prefix: str = "") -> dict:
    """Nested objects as dotted keys: {"usage": {"cached": 3}} -> {"usage.cached": 3}."""
    out = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _present(frame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    from .logcells import is_missing

    return ~frame[column].map(is_missing).to_numpy(dtype=bool)


def _first_line(path: Path, shown: str, what: str) -> str:
    from .logreaders import open_stream

    with open_stream(path, shown) as (fh, _):
        raw = fh.readline(MAX_LINE + 1)
    if len(raw) > MAX_LINE:
        _refuse(shown, 1, f"the first line is longer than {MAX_LINE:,} bytes", what)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _refuse(shown, 1, f"not UTF-8 text (byte {exc.start + 1})", what)


def _csv_header(path: Path, shown: str) -> tuple[list[str], dict]:
    wanted = "a header line naming the columns"
    first = _first_line(path, shown, wanted)
    if not first.strip():
        _refuse(shown, 1, "the log is empty", wanted)
    try:
        names = next(csv.reader([first]))
    except csv.Error as exc:
        limit = csv.field_size_limit()
        message = (f"a header field is longer than {limit:,} characters" if "field limit" in str(exc)
                   else f"cannot read the header: {exc}")  # fmt: skip
        _refuse(shown, 1, message, wanted)
    columns, seen, at = [], {}, 1
    for raw in names:
        name = raw.strip()
        if name in seen:
            _refuse(shown, 1, f"column '{name}' is named twice (columns {columns.index(name) + 1} and "
                    f"{len(columns) + 1})", "each column named once", at, f"$.{name}")  # fmt: skip
        seen[name] = (1, at)
        columns.append(name)
        at += len(raw) + 1
    return columns, seen


class _Duplicate(ValueError):
    pass


def _unique(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        keys = [k for k, _ in pairs]
        raise _Duplicate(next(k for k in keys if keys.count(k) > 1))
    return out


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _jsonl_keys(path: Path, shown: str, layout) -> tuple[list[str], dict]:
    """The union of the keys of every line, each with the (line, column) where it first appears. Under a
    mapping (`layout.maps`) nested objects are read as dotted keys, and ignored keys may hold anything."""
    from .logreaders import open_stream

    wanted = "one JSON object per line"
    seen: dict[str, tuple[int, int]] = {}
    objects = 0
    flat = layout.maps
    with open_stream(path, shown) as (fh, _):
        number = 0
        while raw := fh.readline(MAX_LINE + 1):
            number += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                _refuse(shown, number, f"the line is longer than {MAX_LINE:,} bytes", wanted)
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                _refuse(shown, number, f"not UTF-8 text (byte {exc.start + 1})", wanted)
            if not text.strip():
                continue
            try:
                row = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                _refuse(shown, number, f"not JSON: {exc.msg}", wanted, exc.colno)
            except _Duplicate as exc:
                key = str(exc)
                _refuse(shown, number, f"key '{key}' appears twice in the object", "each key once per line",
                        text.rfind(f'"{key}"') + 1, f"$.{key}")  # fmt: skip
            except (ValueError, RecursionError) as exc:
                _refuse(shown, number, f"not JSON: {exc}", wanted)
            if not isinstance(row, dict):
                _refuse(shown, number, f"the line is {_json_kind(row)}, not a JSON object", '{"model": ...}')
            objects += 1
            for key, value in (flatten(row) if flat else row).items():
                if key not in seen:
                    seen[key] = (number, max(text.find(json.dumps(key.split(".")[0] if flat else key)), 0) + 1)
                if isinstance(value, (dict, list)) and not layout.ignored(key):
                    _refuse(shown, number, f"the value is {_json_kind(value)}", "a number, a string, or null",
                            max(text.find(json.dumps(key)), 0) + 1, f"$.{key}")  # fmt: skip
    if not objects:
        _refuse(shown, 1, "the log is empty", wanted)
    return list(seen), seen


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, str):
        return "a JSON string"
    return "a JSON number"
