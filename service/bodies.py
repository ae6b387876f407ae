"""What a request sends, read within limits and parsed strictly; what a refusal sends back.

A body is read chunk by chunk and refused (413) as soon as it passes `Limits.body_bytes`, or at once when its
Content-Length says it will, so a 100 MB upload is never held in memory. JSON is parsed with Python's `json`
and made strict: duplicate keys, NaN and Infinity, numbers out of float range and nesting deeper than
`Limits.depth` are refused with a problem naming where they are. Every refusal, from here or from the
engine, is the project's one error shape as JSON,
`{"problems": [{"file", "line", "column", "path", "message", "expected", "hint"}]}`; a problem the engine
raised about the body (a mapping, so without positions) gets the line and column of the JSON node at its path.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from impact.engine import ImpactError, Location, Problem

BODY = "<request>"  # the file name problems about the request body carry
MAPPING = "<mapping>"  # what the engine calls a scenario given as a mapping


@dataclass(frozen=True)
class Limits:
    """Maxima a request may ask for; anything above is refused with 413 (size) or 400, never evaluated."""

    body_bytes: int = 16 * 2**20
    batch_rows: int = 100_000
    sweep_points: int = 10_000
    samples: int = 10_000
    depth: int = 32


class Refused(Exception):
    """A request refused before or during evaluation: an HTTP status and the problems to send."""

    def __init__(self, status: int, problems: list[Problem] | Problem):
        self.status = status
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(p.render() for p in self.problems))


def refuse(status: int, path: str, message: str, expected: str | None = None, hint: str | None = None):
    raise Refused(status, Problem(Location(BODY, 0, 0, path), message, expected, hint))


async def read_body(request, limits: Limits) -> bytes:
    """The whole body, refused with 413 as soon as it is known to pass `limits.body_bytes`."""
    most = limits.body_bytes
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            refuse(400, "$", f"Content-Length {length!r} is not a whole number", "a byte count")
        if int(length) > most:
            refuse(413, "$", f"the body is {int(length):,} bytes, more than the limit of {most:,}",
                   f"at most {most:,} bytes", "split a batch into several requests")  # fmt: skip
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > most:
            refuse(413, "$", f"the body is more than the limit of {most:,} bytes", f"at most {most:,} bytes",
                   "split a batch into several requests")  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


def text_of(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        refuse(400, "$", f"the body is not UTF-8 text (byte {exc.start + 1})", "UTF-8 encoded text")


def parse_json(body: bytes, limits: Limits):
    """A JSON body as plain data: strict JSON, finite numbers, no duplicate keys, at most `limits.depth` deep."""
    text = text_of(body)
    if not text.strip():
        refuse(400, "$", "the body is empty", "a JSON document")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_float=_finite,
                          parse_int=_integer)  # fmt: skip
    except json.JSONDecodeError as exc:
        where = Location(BODY, exc.lineno, exc.colno)
        raise Refused(400, Problem(where, f"not JSON: {exc.msg}", "a JSON document")) from None
    except _BadValue as exc:
        refuse(400, "$", str(exc), "a finite number of at most 300 digits")
    except RecursionError:
        refuse(400, "$", "the JSON is nested too deeply", f"at most {limits.depth} levels of nesting")
    _check_depth(data, limits.depth)
    return data


class _BadValue(ValueError):
    pass


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _BadValue(f"duplicate key '{key}'")
        out[key] = value
    return out


def _no_constant(name):
    raise _BadValue(f"{name} is not a number JSON allows")


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise _BadValue(f"the number {text[:40]} is out of range")
    return value


def _integer(text):
    if len(text.lstrip("-")) > 300:
        raise _BadValue(f"the integer {text[:20]}... has more than 300 digits")
    return int(text)


def _check_depth(data, most: int) -> None:
    stack = [(data, 1, "$")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > most:
                refuse(400, path, f"the JSON is nested more than {most} levels deep", f"at most {most} levels")
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((v, depth + 1, f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}") for k, v in items)


def problems_json(problems: list[Problem], body: bytes | None = None, prefix: str = "") -> dict:
    """The error document. Problems the engine raised about a mapping (the body, or the part of it at
    `prefix`) are placed in the body: file `<request>`, with the line and column of the node at their path."""
    marks = None
    out = []
    for p in problems:
        loc = p.location
        file, line, column, path = loc.file, loc.line, loc.column, loc.path
        if file == MAPPING:
            path = prefix + path[1:] if prefix and path.startswith("$") else path
            if marks is None:
                marks = _marks(body)
            line, column = _place(marks, path)
            file = BODY
        elif file is None or line <= 0:  # not in a file, or about a file as a whole
            line = column = None
        out.append({"file": file, "line": line, "column": column, "path": path, "message": p.message,
                    "expected": p.expected, "hint": p.hint})  # fmt: skip
    return {"problems": out}


def _marks(body: bytes | None) -> dict[str, tuple[int, int]]:
    """JSON path text -> (line, column) of every node of the body. JSON is YAML, so the engine's loader,
    which keeps positions, reads it; a body it cannot read has no positions (problems then say line 1)."""
    if not body:
        return {}
    from impact.engine.loader import load_text, render_path

    try:
        doc = load_text(body.decode("utf-8"), BODY)
    except (ImpactError, UnicodeDecodeError, RecursionError):
        return {}
    return {render_path(parts): mark for parts, mark in doc.marks.items()}


def _place(marks: dict, path: str) -> tuple[int, int]:
    """The position of the node at `path`, or of its nearest ancestor that has one."""
    while path:
        if path in marks:
            return marks[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return marks.get("$", (1, 1))
