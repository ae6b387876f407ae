"""`POST /v1/batch`: a request log in a body, evaluated with the engine's batch API against a base scenario.

Three shapes of body are read:

- a JSON object `{"scenario": {...}, "requests": [{...}, ...], "by": [...], "rows": true, "results": [...],
  "skip_bad_rows": false, "methodology": [...]}`, or with `"log": "<CSV or JSON Lines text>", "format": "csv"`
  instead of `requests`;
- a JSON list of requests, with `?scenario=NAME` naming a scenario of the tree's `scenarios/`;
- a CSV (`text/csv`) or JSON Lines (`application/x-ndjson`) body, with `?scenario=NAME`, `?by=`, `?rows=1`,
  `?result=`, `?skip_bad_rows=1`, `?methodology=` in the query.

The log goes to a file in a private temporary folder (the batch API reads files, in chunks), is evaluated by
`engine.batch.run_batch`, and the folder is removed. The answer is `impact batch --format json`'s document,
with `"rows"` per request when asked for. Problems the engine finds in the log are placed in the body:
`$.requests[i].column` with the line and column of that value, or the CSV line.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from impact.engine import ImpactError, Location, Problem
from impact.engine.batch import run_batch, summary
from impact.engine.errors import display_path, suggest
from impact.engine.safefile import write_bytes

from .bodies import BODY, MAPPING, Limits, parse_json, problems_json, refuse, text_of

KEYS = ("scenario", "requests", "log", "format", "by", "rows", "results", "skip_bad_rows", "methodology")
FORMATS = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
           "application/x-jsonlines": "jsonl", "application/json-lines": "jsonl"}  # fmt: skip


@dataclass
class Ask:
    """One batch request, read: the base scenario, the log's bytes and format, and the options."""

    scenario: object  # a mapping from the body, or the path of a scenario of the tree
    log: bytes
    fmt: str
    listed: bool = False  # the log came as a JSON list of requests (problems point into it)
    in_body: bool = False  # the scenario came in the body, at $.scenario
    by: list[str] = field(default_factory=list)
    rows: bool = False
    results: list[str] = field(default_factory=list)
    skip_bad_rows: bool = False
    methodologies: list[str] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)  # names the log file had in problems


def parse(request, body: bytes, limits: Limits, tree) -> Ask:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    q = request.query_params
    if kind in FORMATS:
        ask = Ask(_named_scenario(q.get("scenario"), tree), body, FORMATS[kind], **_query_options(q))
        text = text_of(body)
        lines = sum(1 for line in text.splitlines() if line.strip()) - (1 if ask.fmt == "csv" else 0)
        _check_rows(lines, limits)
        return ask
    if kind not in ("application/json", ""):
        refuse(415, "$", f"cannot read a body of type {kind!r}", "application/json, text/csv or application/x-ndjson")
    data = parse_json(body, limits)
    if isinstance(data, list):
        scenario = _named_scenario(q.get("scenario"), tree)
        return Ask(scenario, _as_csv(data, limits), "csv", listed=True, **_query_options(q))
    if not isinstance(data, dict):
        refuse(400, "$", "the body is neither a JSON object nor a list", '{"scenario": {...}, "requests": [...]}')
    for key in data:
        if key not in KEYS:
            refuse(400, f"$.{key}", f"unknown key '{key}'", "one of " + ", ".join(KEYS), suggest(key, KEYS))
    if not isinstance(data.get("scenario"), dict):
        refuse(400, "$.scenario", "missing or not a JSON object", "the base scenario, as POST /v1/run takes it")
    options = {key: _strings(data, key) for key in ("by", "results", "methodology")}
    flags = {key: _bool(data, key) for key in ("rows", "skip_bad_rows")}
    if ("requests" in data) == ("log" in data):
        refuse(400, "$", "give exactly one of 'requests' and 'log'", "requests: a list, or log: CSV or JSON Lines text")
    if "requests" in data:
        if not isinstance(data["requests"], list):
            refuse(400, "$.requests", "not a list", "a list of requests, each a JSON object")
        log, fmt, listed = _as_csv(data["requests"], limits), "csv", True
    else:
        fmt = data.get("format", "csv")
        if fmt not in ("csv", "jsonl") or not isinstance(data["log"], str):
            refuse(400, "$.format", f"cannot read a log of format {fmt!r}", "csv or jsonl, and log: the text")
        text, listed = data["log"], False
        _check_rows(sum(1 for line in text.splitlines() if line.strip()) - (fmt == "csv"), limits)
        log = text.encode("utf-8")
    return Ask(data["scenario"], log, fmt, listed, True, options["by"], flags["rows"], options["results"],
               flags["skip_bad_rows"], options["methodology"])  # fmt: skip


def _query_options(q) -> dict:
    def flag(name):
        return q.get(name, "0").lower() in ("1", "true", "yes")

    return {"by": q.getlist("by"), "rows": flag("rows"), "results": q.getlist("result"),
            "skip_bad_rows": flag("skip_bad_rows"), "methodologies": q.getlist("methodology")}  # fmt: skip


def _named_scenario(name, tree) -> Path:
    folder = tree.root / "scenarios"
    known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    if name is None:
        refuse(400, "?scenario", "no base scenario", "?scenario=NAME, one of " + ", ".join(known))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name not in known:
        refuse(400, "?scenario", f"unknown scenario '{name}'", "one of " + ", ".join(known), suggest(name, known))
    return folder / f"{name}.yaml"


def _check_rows(n: int, limits: Limits) -> None:
    if n > limits.batch_rows:
        refuse(413, "$", f"the batch has {n:,} rows, more than the limit of {limits.batch_rows:,}",
               f"at most {limits.batch_rows:,} rows", "split it into several requests")  # fmt: skip


def _as_csv(requests: list, limits: Limits) -> bytes:
    """The requests as a CSV log (read several times faster than JSON Lines); every request gives the same
    keys, as every row of a log has its columns."""
    _check_rows(len(requests), limits)
    if not requests:
        refuse(400, "$.requests", "the list of requests is empty", "at least one request")
    keys = None
    for i, item in enumerate(requests):
        if not isinstance(item, dict):
            refuse(400, f"$.requests[{i}]", "the request is not a JSON object", '{"model": ..., "output_tokens": ...}')
        for key, value in item.items():
            if isinstance(value, (dict, list)):
                refuse(400, f"$.requests[{i}].{key}", "a request's value must be a number or a string",
                       "a catalog id, a token count, or a number for an input")  # fmt: skip
        keys = keys if keys is not None else set(item)
        if set(item) != keys:
            lacks, extra = sorted(keys - set(item)), sorted(set(item) - keys)
            what = f"lacks {', '.join(lacks)}" if lacks else f"has {', '.join(extra)}, which request 0 has not"
            refuse(400, f"$.requests[{i}]", f"request {i} {what}",
                   "the same keys in every request (a log's columns); leave a key out of all to take the base "
                   "scenario's value")  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = list(requests[0])
    writer.writerow(columns)
    writer.writerows([_cell(r[c]) for c in columns] for r in requests)
    return out.getvalue().encode("utf-8")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else str(value)


def _strings(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        refuse(400, f"$.{key}", "not a list of names", "a list of strings")
    return value


def _bool(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        refuse(400, f"$.{key}", f"{json.dumps(value)} is not true or false", "true or false")
    return value


def evaluate(ask: Ask, tree) -> dict:
    """The batch's document: totals, breakdowns, and with `rows` one entry per request."""
    with tempfile.TemporaryDirectory(prefix="impact-serve-") as folder:
        path = Path(folder) / f"log.{ask.fmt}"
        write_bytes(path, ask.log)
        ask.shown = {str(path), display_path(path)}
        out = Path(folder) / "rows.csv" if ask.rows else None
        batch = run_batch(path, ask.scenario, tree, methodologies=ask.methodologies or None, by=ask.by, out=out,
                          results=ask.results, skip_bad_rows=ask.skip_bad_rows)  # fmt: skip
        data = summary(batch)
        data["log"] = BODY
        data["scenario"] = "$.scenario" if ask.in_body else f"scenarios/{Path(ask.scenario).name}"
        data["bad_rows"] = [_rename(text, ask) for text in data["bad_rows"]]
        if out is not None:
            data["results"] = _rows(out, batch.outputs, ask)
    return data


def _rename(text: str, ask: Ask) -> str:
    for name in sorted(ask.shown, key=len, reverse=True):
        text = text.replace(name, BODY)
    return text


def _rows(path: Path, outputs: dict[str, list[str]], ask: Ask) -> list[dict]:
    """The per-request CSV the batch wrote, as one entry per request: its line (or index) and its results."""
    names = [(m, n) for m, wanted in outputs.items() for n in wanted]
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for cells in reader:
            line = int(cells[0])
            row: dict = {"index": line - 2} if ask.listed else {"line": line}
            results: dict[str, dict[str, float]] = {}
            for (m, n), cell in zip(names, cells[1:], strict=True):
                results.setdefault(m, {})[n] = float(cell)
            row["results"] = results
            rows.append(row)
    return rows


def problems(exc: ImpactError, ask: Ask, body: bytes) -> dict:
    """The error document, with problems about the log or the base scenario placed in the body."""
    placed = []
    for p in exc.problems:
        loc = p.location
        if loc.file in ask.shown and ask.listed:
            column = loc.path[1:] if loc.path.startswith("$") else ""
            index = max(loc.line - 2, 0)  # the CSV the requests went to has a header line (a column: request 0)
            prefix = f"$.requests[{index}]" if ask.in_body else f"$[{index}]"
            loc = Location(MAPPING, path=prefix + column)
        elif loc.file in ask.shown:
            loc = Location(BODY, loc.line, loc.column, loc.path)
        elif loc.file == MAPPING and ask.in_body:
            loc = Location(MAPPING, path="$.scenario" + loc.path[1:])
        placed.append(Problem(loc, _rename(p.message, ask), p.expected, p.hint))
    return problems_json(placed, body)
