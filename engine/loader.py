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
messages are shortened (`errors.shorten`). This module knows nothing about schemas or formulas.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ImpactError, Location, Problem, display_path, shorten

MAX_NODES = 1_000_000
MAX_DEPTH = 200  # nesting levels of mappings and lists
MAX_BYTES = 64 * 1024 * 1024
_FLOAT_MAX = 1.7976931348623157e308
_TOO_LONG = object()

try:  # the C parser is several times faster; the pure-Python one behaves the same
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):
    """SafeLoader with YAML 1.2-style booleans, exponent floats and no timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}


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
    """Load YAML text; `file` is the name used in messages."""
    text = text.removeprefix("\ufeff")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        what = " ".join(str(exc.problem or exc.context or "cannot be parsed").split())
        raise ImpactError(Problem(where, f"invalid YAML: {what}", "well-formed YAML")) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: at its own line and column
        where = _position(text, exc.position, file)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        what = f"the character U+{code:04X} is not allowed" + ("" if "control" in exc.reason else f" ({exc.reason})")
        if "control" in exc.reason:
            what = f"the control character U+{code:04X} is not allowed"
        raise ImpactError(Problem(where, what, "text without control characters")) from None
    except yaml.YAMLError as exc:
        what = shorten(" ".join(str(exc).split()), 200)
        raise ImpactError(Problem(Location(file), f"invalid YAML: {what}", "well-formed YAML")) from None
    except RecursionError:
        raise ImpactError(Problem(Location(file), f"the document nests deeper than {MAX_DEPTH} levels",
                                  "a flatter document")) from None  # fmt: skip
    finally:
        loader.dispose()
    doc = Doc(file, None)
    if node is None:
        return doc
    builder = _Builder(loader, doc)
    doc.data = builder.build(node, ())
    return doc


def _position(text: str, index: int, file: str) -> Location:
    """The 1-based line and column of the reader's `index` into `text` (libyaml counts UTF-8 bytes)."""
    if _BaseLoader is not yaml.SafeLoader:
        index = len(text.encode("utf-8")[: max(0, index)].decode("utf-8", "ignore"))
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return Location(file, line, index - (text.rfind("\n", 0, index) + 1) + 1)


class _Builder:
    """Turns composed YAML nodes into plain data, recording positions."""

    def __init__(self, loader, doc: Doc):
        self.loader = loader
        self.doc = doc
        self.count = 0
        self.open: set[int] = set()  # the nodes being built, from the root down: an alias to one is a cycle

    def _problem(self, node, parts, message, expected):
        where = Location(self.doc.file, node.start_mark.line + 1, node.start_mark.column + 1, render_path(parts))
        raise ImpactError(Problem(where, message, expected))

    def build(self, node, parts):
        self.count += 1
        if self.count > MAX_NODES:
            self._problem(
                node,
                parts,
                f"document expands to more than {MAX_NODES:,} nodes",
                "a smaller document (aliases may not multiply content)",
            )
        self.doc.marks.setdefault(parts, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _PLAIN_TAGS:
            shown = shorten(node.tag.replace("tag:yaml.org,2002:", "!!"))
            self._problem(node, parts, f"the tag '{shown}' is not allowed", "plain YAML without tags")
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in self.open:
                self._problem(node, parts, "an alias refers to the anchor it is inside of (a recursive alias)",
                              "an alias to an anchor defined before it, outside it")  # fmt: skip
            if len(parts) >= MAX_DEPTH:
                self._problem(
                    node, parts[:3], f"the document nests deeper than {MAX_DEPTH} levels", "a flatter document"
                )
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, parts)
                return [self.build(item, parts + (i,)) for i, item in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._problem(node, parts, f"cannot read value: {exc.problem}", "a plain YAML scalar")
        except ValueError:  # an integer of more digits than Python converts (4300)
            value = _TOO_LONG
        if value is _TOO_LONG or (isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX):
            self._problem(node, parts, f"{shorten(node.value)!r} is beyond the floating-point range (about 1.8e308)",
                          "a finite number (an infinity or a NaN is never a fact)")  # fmt: skip
        if isinstance(value, float) and not math.isfinite(value):
            self._problem(node, parts, f"{shorten(node.value)!r} is not a finite number",
                          "a finite number (an infinity or a NaN is never a fact)")  # fmt: skip
        return value

    def _mapping(self, node, parts):
        result, first_line = {}, {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, parts, "merge keys ('<<') are not supported", "keys written out")
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, parts, "a key must be a plain scalar", "a string key")
            key = self.loader.construct_object(key_node)
            if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float)):
                self._problem(key_node, parts, f"key {shorten(key_node.value)!r} is not a string", "a string key")
            key = str(key) if not isinstance(key, str) else key
            line = key_node.start_mark.line + 1
            if key in result:
                self._problem(
                    key_node,
                    parts + (key,),
                    f"duplicate key '{shorten(key)}' (first at line {first_line[key]})",
                    "each key once per mapping",
                )
            first_line[key] = line
            child = parts + (key,)
            self.doc.marks[child] = self.doc.keys[child] = (line, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child)
            # point at the value, not the key, for scalars: `gpus: -2` -> the column of -2
            if isinstance(value_node, yaml.ScalarNode):
                self.doc.marks[child] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        return result
