"""The YAML half of `loader`: PyYAML's C parser with the loader's rules, turned into a `Doc` with positions.

`loader.load_text` imports this module when it first parses YAML, so that a command whose files all come from
the cache of validated files (`engine.cache`) does not import PyYAML. The rules are the loader's (its module
docstring): YAML 1.2-style booleans, exponent floats, no timestamps, duplicate keys, alias bombs, recursive
aliases, depth, tags, non-finite numbers and control characters refused at their line.
"""

from __future__ import annotations

import math
import re

import yaml

from .errors import ImpactError, Location, Problem, shorten
from .loader import MAX_DEPTH, MAX_NODES, Doc, render_path

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


def parse(text: str, file: str) -> Doc:
    """Load YAML text (`loader.load_text`); `file` is the name used in messages."""
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
