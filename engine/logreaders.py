"""Readers of request logs beyond plain CSV and JSON Lines: compressed files, Parquet, OpenTelemetry spans.

- `open_stream` opens a log for reading, decompressing `.gz` (gzip, standard library) and `.zst` (the optional
  `zstandard` package); it yields the byte stream and the raw file, whose position is the progress.
- Parquet (`pyarrow`, the optional `parquet` extra) is read in record batches of the chunk size; a row's
  "line" in messages is its row number, counted from 1.
- OpenTelemetry spans as JSON: OTLP JSON (`{"resourceSpans": [...]}`, one document per line as the
  Collector's file exporter writes, or one pretty-printed document) or one span object per line. Each span
  becomes a record of its attributes (by key, resource attributes as `resource.KEY`) with `trace_id`,
  `span_id`, `name` and `start_time` (ISO 8601, UTC); the `otel` logformat maps the GenAI attributes.
- Records nested in JSON documents (reader `records`, a logformat's `records: data.results`): each document
  (one per line, or the whole file) holds lists of objects at that dotted path; each object is a record, with
  the plain values of the objects above it as `data.KEY` (an API's page of time buckets of usage results, as
  OpenAI's Usage API answers). A record is located by its document's line.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .errors import ImpactError, Location, Problem

MAX_DOCUMENT = 256 << 20  # bytes of a pretty-printed OTLP JSON document read whole


@contextlib.contextmanager
def open_stream(path: Path, shown: str):
    """(binary stream of the log's content, the raw file) with `.gz` and `.zst` decompressed."""
    suffix = path.suffix.lower()
    with path.open("rb") as raw:
        if suffix == ".gz":
            import gzip

            with gzip.GzipFile(fileobj=raw) as stream:
                yield stream, raw
        elif suffix == ".zst":
            try:
                import zstandard
            except ImportError:
                raise ImpactError(Problem(Location(shown, 0), "reading a .zst log needs the zstandard package",
                                          "pip install zstandard, or a .gz or uncompressed log")) from None  # fmt: skip
            import io

            with zstandard.ZstdDecompressor().stream_reader(raw) as reader:
                yield io.BufferedReader(reader), raw
        else:
            yield raw, raw


# -- Parquet -------------------------------------------------------------------------------------------------


def _parquet(path: Path, shown: str, texts=None):
    """The Parquet file; `texts` are columns read as dictionaries (codes into their distinct values)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImpactError(Problem(Location(shown, 0), "reading Parquet needs pyarrow",
                                  "pip install 'impact-llm[parquet]'")) from None  # fmt: skip
    try:
        return pq.ParquetFile(path, read_dictionary=texts or None)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a file that is not Parquet
        raise ImpactError(Problem(Location(shown, 0), f"not a Parquet file ({type(exc).__name__})",
                                  "a Parquet file, one request per row")) from None  # fmt: skip


def parquet_columns(path: Path, shown: str) -> tuple[list[str], dict]:
    names = list(_parquet(path, shown).schema_arrow.names)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ImpactError(Problem(Location(shown, 0, path=f"$.{duplicates[0]}"), f"column '{duplicates[0]}' is "
                                  "named twice", "each column named once"))  # fmt: skip
    return names, {n: (0, 1) for n in names}


def parquet_chunks(log, rows: int):
    from .requestlog import Chunk

    table = _parquet(log.path, log.shown)
    done, first = 0, 1
    for batch in table.iter_batches(batch_size=rows):
        frame = batch.to_pandas()
        done += batch.nbytes
        yield Chunk(frame, np.arange(first, first + len(frame)), {}, min(done, log.path.stat().st_size))
        first += len(frame)


# -- OpenTelemetry spans -------------------------------------------------------------------------------------


def _documents(path: Path, shown: str, wanted: str = "OTLP JSON (resourceSpans) or one span per line"):
    """(line, JSON document) for each document of the file: one per line, or the whole file as one when its
    first line is not a whole JSON document (a pretty-printed OTLP export)."""
    with open_stream(path, shown) as (fh, _):
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                doc = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                if number == 1:
                    break
                raise ImpactError(Problem(Location(shown, number), f"not JSON: {exc}", wanted)) from None
            yield number, doc
        else:
            return
    whole = _whole(path, shown)
    if whole is None:
        raise ImpactError(Problem(Location(shown, 1), "not JSON", wanted))
    yield 1, whole


def _whole(path: Path, shown: str):
    if path.stat().st_size > MAX_DOCUMENT:
        return None
    with open_stream(path, shown) as (fh, _):
        try:
            return json.loads(fh.read(MAX_DOCUMENT + 1).decode("utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


def _spans(path: Path, shown: str):
    """(line, record) for every span of the file."""
    for line, doc in _documents(path, shown):
        if isinstance(doc, dict) and "resourceSpans" in doc:
            for rs in _list(doc.get("resourceSpans"), shown, line, "resourceSpans"):
                resource = _attributes((rs.get("resource") or {}).get("attributes"), shown, line)
                for ss in _list(rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])), shown, line,
                                "scopeSpans"):  # fmt: skip
                    for span in _list(ss.get("spans", []), shown, line, "spans"):
                        yield line, _record(span, shown, line, resource)
        elif isinstance(doc, dict) and any(k in doc for k in ("traceId", "trace_id", "attributes", "context")):
            yield line, _record(doc, shown, line, {})
        else:
            wanted = '{"resourceSpans": [...]} or a span {"traceId": ..., "attributes": ...}'
            raise ImpactError(Problem(Location(shown, line), "not an OpenTelemetry span or an OTLP JSON document",
                                      wanted))  # fmt: skip


def _list(value, shown, line, what) -> list:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ImpactError(Problem(Location(shown, line, path=f"$.{what}"), f"{what} is not a list of objects",
                                  "OTLP JSON (opentelemetry-proto's JSON encoding)"))  # fmt: skip
    return value


def _attributes(raw, shown, line) -> dict:
    if raw is None:
        return {}
    if isinstance(raw, dict):  # {"gen_ai.request.model": "..."}, as some exporters write one span per line
        return raw
    out = {}
    for item in _list(raw, shown, line, "attributes"):
        value = item.get("value") or {}
        found = next((value[k] for k in ("stringValue", "intValue", "doubleValue", "boolValue") if k in value), None)
        if found is None and value:
            found = json.dumps(value)  # an array or a map: kept as text, read only if a format maps it
        out[str(item.get("key"))] = found
    return out


def _record(span: dict, shown, line, resource: dict) -> dict:
    context = span.get("context") if isinstance(span.get("context"), dict) else {}
    record = {f"resource.{k}": v for k, v in resource.items()}
    record.update(_attributes(span.get("attributes"), shown, line))
    record["trace_id"] = span.get("traceId") or span.get("trace_id") or context.get("trace_id")
    record["span_id"] = span.get("spanId") or span.get("span_id") or context.get("span_id")
    record["name"] = span.get("name")
    start = span.get("startTimeUnixNano", span.get("start_time"))
    if isinstance(start, (str, int)) and str(start).isdigit():
        start = datetime.fromtimestamp(int(start) / 1e9, tz=UTC).isoformat()
    record["start_time"] = start
    return record


def otel_keys(path: Path, shown: str, layout) -> tuple[list[str], dict]:
    seen: dict[str, tuple[int, int]] = {}
    spans = 0
    for line, record in _spans(path, shown):
        spans += 1
        for key in record:
            seen.setdefault(key, (line, 1))
    if not spans:
        raise ImpactError(Problem(Location(shown, 1), "no spans in the file", "OpenTelemetry spans as JSON"))
    return list(seen), seen


def otel_chunks(log, rows: int):
    return _chunks(log, rows, _spans(log.path, log.shown))


def _chunks(log, rows: int, found):
    """Frames of `rows` records from `found`, (line, record) pairs, each record at its line."""
    import pandas as pd

    from .requestlog import records_chunk

    records, lines = [], []
    for line, record in found:
        records.append(record)
        lines.append(line)
        if len(records) == rows:
            yield records_chunk(pd, log.raw, records, lines, 0)
            records, lines = [], []
    if records:
        yield records_chunk(pd, log.raw, records, lines, log.path.stat().st_size)


# -- records nested in JSON documents (reader `records`) -----------------------------------------------------


def _records(path: Path, shown: str, layout):
    """(line, record) for every object in the lists at `layout.records` (a dotted path) of every document."""
    from .requestlog import _json_kind, flatten

    steps = layout.records.split(".")
    wanted = f"JSON documents holding lists of records at {layout.records}"

    def walk(node, depth: int, parents: dict, where: str, line: int):
        key = steps[depth]
        if not isinstance(node, dict) or key not in node:
            raise ImpactError(Problem(Location(shown, line, path=f"{where}.{key}"), f"no {key}", wanted))
        items = node[key]
        if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
            raise ImpactError(Problem(Location(shown, line, path=f"{where}.{key}"), f"{key} is "
                                      f"{_json_kind(items)}, not a list of objects", wanted))  # fmt: skip
        for i, item in enumerate(items):
            here = f"{where}.{key}[{i}]"
            if depth + 1 < len(steps):
                prefix = ".".join(steps[: depth + 1]) + "."
                plain = {prefix + k: v for k, v in item.items() if not isinstance(v, (dict, list))}
                yield from walk(item, depth + 1, {**parents, **plain}, here, line)
                continue
            record = {**parents, **flatten(item)}
            for name, value in record.items():
                if isinstance(value, list) and not layout.ignored(name):
                    raise ImpactError(Problem(Location(shown, line, path=f"{here}.{name}"), f"the value is "
                                              f"{_json_kind(value)}", "a number, a string, or null"))  # fmt: skip
            yield line, record

    for line, doc in _documents(path, shown, wanted):
        if not isinstance(doc, dict):
            raise ImpactError(Problem(Location(shown, line), f"the document is {_json_kind(doc)}, not a JSON "
                                      "object", wanted))  # fmt: skip
        yield from walk(doc, 0, {}, "$", line)


def records_keys(path: Path, shown: str, layout) -> tuple[list[str], dict]:
    seen: dict[str, tuple[int, int]] = {}
    count = 0
    for line, record in _records(path, shown, layout):
        count += 1
        for key in record:
            seen.setdefault(key, (line, 1))
    if not count:
        raise ImpactError(Problem(Location(shown, 1), f"no records at {layout.records}", "at least one record"))
    return list(seen), seen


def records_chunks(log, rows: int):
    return _chunks(log, rows, _records(log.path, log.shown, log.layout))
