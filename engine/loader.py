"""Load YAML while keeping the line and column of every node.

`load_file` and `load_text` turn YAML text into plain Python data (dicts, lists, str, int, float, bool,
None) plus a `Doc` that maps each JSON path to its position, so later stages can point at the exact
line of a bad value. Differences from PyYAML's safe loader, all on purpose:

- a duplicate key is an error naming both lines;
- `1e3` and `2.5E-4` are numbers (YAML 1.1 wants `1.0e+3`);
- only `true`/`false` are booleans (YAML 1.2): a region id `no` (Norway) or `on` stays a string;
- dates stay strings; anchors and aliases work, merge keys (`<<`) and tags (`!!python/...`) do not;
- documents that would expand to more than a million nodes (alias bombs) are refused.
This module knows nothing about schemas or formulas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ImpactError, Location, Problem, display_path

MAX_NODES = 1_000_000

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

    def loc(self, parts=()) -> Location:
        """The location of the node at `parts`, or of its nearest ancestor that has one."""
        parts = tuple(parts)
        for cut in range(len(parts), -1, -1):
            if parts[:cut] in self.marks:
                line, column = self.marks[parts[:cut]]
                return Location(self.file, line, column, render_path(parts))
        return Location(self.file, 1, 1, render_path(parts))


def load_file(path: str | Path, shown_as: str | None = None) -> Doc:
    """Read and load one YAML file. `shown_as` is the name used in messages (default: as the user sees it)."""
    path = Path(path)
    shown = shown_as or display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImpactError(Problem(Location(shown, 0), "no such file", "a path to a YAML file")) from None
    except IsADirectoryError:
        raise ImpactError(Problem(Location(shown, 0), "is a directory", "a path to a YAML file")) from None
    except UnicodeDecodeError as exc:
        raise ImpactError(
            Problem(Location(shown, 0), f"is not UTF-8 text ({exc.reason})", "a UTF-8 encoded YAML file")
        ) from None
    doc = load_text(text, shown)
    doc.path = path
    return doc


def load_text(text: str, file: str) -> Doc:
    """Load YAML text; `file` is the name used in messages."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        what = exc.problem or exc.context or "cannot be parsed"
        raise ImpactError(Problem(where, f"invalid YAML: {what}", "well-formed YAML")) from None
    except yaml.YAMLError as exc:
        raise ImpactError(Problem(Location(file), f"invalid YAML: {exc}", "well-formed YAML")) from None
    finally:
        loader.dispose()
    doc = Doc(file, None)
    if node is None:
        return doc
    builder = _Builder(loader, doc)
    doc.data = builder.build(node, ())
    return doc


class _Builder:
    """Turns composed YAML nodes into plain data, recording positions."""

    def __init__(self, loader, doc: Doc):
        self.loader = loader
        self.doc = doc
        self.count = 0

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
            shown = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, parts, f"the tag '{shown}' is not allowed", "plain YAML without tags")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, parts)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, parts + (i,)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._problem(node, parts, f"cannot read value: {exc.problem}", "a plain YAML scalar")

    def _mapping(self, node, parts):
        result, first_line = {}, {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, parts, "merge keys ('<<') are not supported", "keys written out")
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, parts, "a key must be a plain scalar", "a string key")
            key = self.loader.construct_object(key_node)
            if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float)):
                self._problem(key_node, parts, f"key {key_node.value!r} is not a string", "a string key")
            key = str(key) if not isinstance(key, str) else key
            line = key_node.start_mark.line + 1
            if key in result:
                self._problem(
                    key_node,
                    parts + (key,),
                    f"duplicate key '{key}' (first at line {first_line[key]})",
                    "each key once per mapping",
                )
            first_line[key] = line
            child = parts + (key,)
            self.doc.marks[child] = (line, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child)
            # point at the value, not the key, for scalars: `gpus: -2` -> the column of -2
            if isinstance(value_node, yaml.ScalarNode):
                self.doc.marks[child] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        return result
