"""A request log on disk: CSV (a header line, then one request per line) or JSON Lines (one object per line),
read by pandas in chunks, with what a bad row needs to be reported at its file, line and column."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import ImpactError, Location, Problem, display_path
from .points import CHOICES


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
class Log:
    """A request log on disk: its format, its columns, and its rows in chunks."""

    path: Path
    shown: str
    fmt: str  # "csv" or "jsonl"
    columns: list[str]

    @classmethod
    def open(cls, path: str | Path) -> Log:
        path = Path(path)
        shown = display_path(path)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "no such file"
            raise ImpactError(Problem(Location(shown, 0), what, "a CSV or JSON Lines file, one request per row"))
        fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            first = fh.readline()
        if not first.strip():
            wanted = "a header line naming the columns" if fmt == "csv" else "one JSON object per line"
            raise ImpactError(Problem(Location(shown, 1), "the log is empty", wanted))
        if fmt == "csv":
            columns = [c.strip() for c in next(csv.reader([first]))]
        else:
            try:
                row = json.loads(first)
            except json.JSONDecodeError as exc:
                raise ImpactError(Problem(Location(shown, 1, exc.colno), f"not JSON: {exc.msg}",
                                          "one JSON object per line")) from None  # fmt: skip
            if not isinstance(row, dict):
                raise ImpactError(Problem(Location(shown, 1), "the line is not a JSON object", '{"model": ...}'))
            columns = list(row)
        return cls(path, shown, fmt, columns)

    @property
    def first_line(self) -> int:
        return 2 if self.fmt == "csv" else 1

    def chunks(self, rows: int):
        """(DataFrame, line of its first row, bytes read so far) per chunk."""
        import pandas as pd

        line = self.first_line
        with self.path.open("rb") as fh:
            if self.fmt == "csv":
                reader = pd.read_csv(fh, chunksize=rows, dtype={c: str for c in self.columns if c in CHOICES},
                                     skip_blank_lines=False, skipinitialspace=True)  # fmt: skip
            else:
                reader = pd.read_json(fh, lines=True, chunksize=rows, dtype=False)
            try:
                for frame in reader:
                    yield frame, line, fh.tell()
                    line += len(frame)
            except (ValueError, pd.errors.ParserError) as exc:
                what = f"cannot read the log: {exc}".splitlines()[0]
                wanted = f"well-formed {'CSV' if self.fmt == 'csv' else 'JSON Lines'}"
                raise ImpactError(Problem(Location(self.shown, line), what, wanted)) from None

    def column_of(self, line: int, column: str) -> int:
        """The 1-based character column where `column`'s value starts on `line` (read again, for messages)."""
        text = None
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            for number, found in enumerate(fh, 1):
                if number == line:
                    text = found
                    break
        if text is None:
            return 1
        if self.fmt == "jsonl":
            return max(text.find(f'"{column}"'), 0) + 1
        if column not in self.columns or '"' in text:
            return 1
        fields = text.rstrip("\r\n").split(",")
        index = self.columns.index(column)
        return sum(len(f) + 1 for f in fields[:index]) + 1


def is_missing(value) -> bool:
    try:
        return value is None or value != value or (isinstance(value, str) and not value.strip())
    except (TypeError, ValueError):
        return False
