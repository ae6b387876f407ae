"""Load YAML while keeping the line and column of every node.

`load_file` and `load_text` turn YAML text into plain Python data (dicts, lists, str, int, float, bool,
None) plus a `Doc` that maps each JSON path to its position, so later stages can point at the exact
line of a bad value. Differences from PyYAML's safe loader, all on purpose:

- a duplicate key is an error naming both lines;
- `1e3` and `2.5E-4` are numbers (YAML 1.1 wants `1.0e+3`);
- only `true`/`false` are booleans (YAML 1.2): a region id `no` (Norway) or `on` stays a string;
- dates stay strings; anchors and aliases work, merge keys (`<<`) and tags (`!!python/...`) do not;
- documents that would expand to more than a million nodes (alias bombs), that nest deeper than `MAX_DEPTH`
  levels, or whose aliases refer to themselves (`a: &a [*a]`) are refused;
- a non-finite number (`.inf`, `.nan`, `1e400`, an integer beyond the floating-point range) is refused at its
  line: it is never a fact;
- only regular files are read (a FIFO, a device, a directory or `/dev/zero` is refused before anything is
  read, so nothing blocks), at most `MAX_BYTES` of them; a UTF-8 byte order mark is skipped;
- a control character is reported at its own line and column.
`Doc.marks` holds the position of each node (for a scalar, its value) and `Doc.keys` the position of the
key that names it, for messages about the key itself (an unknown or misspelled key). Values shown in
messages are shortened (`errors.shorten`). The parsing itself is `yamlparse`, imported on first use. This
module knows nothing about schemas or formulas.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ImpactError, Location, Problem, display_path, shorten

MAX_NODES = 1_000_000
MAX_DEPTH = 200  # nesting levels of mappings and lists
MAX_BYTES = 64 * 1024 * 1024


def render_path(parts) -> str:
    """JSON path text for a tuple of keys and indexes: `$.entries['llama-3.1-70b'].layers`."""
    text = "$"
    for part in parts:
        part = shorten(part) if isinstance(part, str) else part
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            text += f".{part}"
        else:
            text += f"['{part}']"
    return text


@dataclass
class Doc:
    """A loaded YAML document: its data and the position of every node."""

    file: str  # as shown to people
    data: object
    marks: dict = field(default_factory=dict)  # path tuple -> (line, column), 1-based
    path: Path | None = None
    keys: dict = field(default_factory=dict)  # path tuple -> (line, column) of the key that names the node

    def loc(self, parts=()) -> Location:
        """The location of the node at `parts`, or of its nearest ancestor that has one."""
        parts = tuple(parts)
        for cut in range(len(parts), -1, -1):
            if parts[:cut] in self.marks:
                line, column = self.marks[parts[:cut]]
                return Location(self.file, line, column, render_path(parts))
        return Location(self.file, 1, 1, render_path(parts))

    def key_loc(self, parts) -> Location:
        """The location of the key that names the node at `parts` (for a misspelled key), else `loc(parts)`."""
        parts = tuple(parts)
        if parts in self.keys:
            line, column = self.keys[parts]
            return Location(self.file, line, column, render_path(parts))
        return self.loc(parts)


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for messages: 'a directory', 'a FIFO (named pipe)', ..."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular(path: str | Path, shown: str | None = None, limit: int = MAX_BYTES,
                 expected: str = "a path to a YAML file") -> bytes:  # fmt: skip
    """The bytes of a regular file, or an ImpactError: a FIFO, a device or a directory is refused once opened
    without blocking (O_NONBLOCK) and before anything is read; a file over `limit` bytes is refused."""
    shown = shown or display_path(path)
    where = Location(shown, 0)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ImpactError(Problem(where, "no such file", expected)) from None
    except IsADirectoryError:
        raise ImpactError(Problem(where, "is a directory", expected)) from None
    except OSError as exc:
        raise ImpactError(Problem(where, f"cannot be read ({exc.strerror or exc})", expected)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = file_kind(info.st_mode)
            shown_kind = kind if kind in ("a directory", "not a regular file") else f"{kind}, not a regular file"
            raise ImpactError(Problem(where, f"is {shown_kind}", expected))
        if info.st_size > limit:
            raise ImpactError(Problem(where, f"is {info.st_size:,} bytes long, over the limit of {limit:,}",
                                      "a smaller file"))  # fmt: skip
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while being read
                raise ImpactError(Problem(where, f"is over the limit of {limit:,} bytes", "a smaller file"))
        return b"".join(chunks)
    except OSError as exc:
        raise ImpactError(Problem(where, f"cannot be read ({exc.strerror or exc})", expected)) from None
    finally:
        os.close(fd)


def decode(content: bytes, shown: str) -> str:
    """UTF-8 text of a file's bytes (a byte order mark skipped), or an ImpactError saying where it is not."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        column = exc.start - (content.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImpactError(
            Problem(Location(shown, line, column), f"is not UTF-8 text ({exc.reason})", "a UTF-8 encoded YAML file")
        ) from None


def load_file(path: str | Path, shown_as: str | None = None) -> Doc:
    """Read and load one YAML file. `shown_as` is the name used in messages (default: as the user sees it)."""
    path = Path(path)
    shown = shown_as or display_path(path)
    return load_bytes(read_regular(path, shown), shown, path)


def load_bytes(content: bytes, shown: str, path: Path | None = None) -> Doc:
    """Load the bytes of a YAML file (already read with `read_regular`); `shown` is its name in messages."""
    doc = load_text(decode(content, shown), shown)
    doc.path = path
    return doc


def load_text(text: str, file: str) -> Doc:
    """Load YAML text; `file` is the name used in messages (PyYAML is imported here, on first use: a command
    whose files all come from `engine.cache` never parses YAML)."""
    from .yamlparse import parse

    return parse(text, file)
