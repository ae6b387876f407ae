"""Validate loaded YAML documents against the JSON Schemas in `schemas/`.

A document names its schema with `kind:` and `schema_version:` (catalogs also with `catalog:`):
`schemas/<kind>.v<N>.json`, or `schemas/catalog-<catalog>.v<N>.json`. All errors are collected and each is
turned into a `Problem` built from the error's fields (validator, value, instance), never from the
library's message text. A schema may annotate any subschema with `expected` (the phrase after
"; expected") and catalog fields with `unit`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ImpactError, Problem, shorten, suggest
from .loader import Doc

KINDS = ("scenario", "formulas", "catalog", "optimization", "benchmarks", "golden", "logformat")


class Schemas:
    """The JSON Schemas of one methodology tree, loaded on first use."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._registry = None
        self._validators = {}
        self._fingerprint: str | None = None

    def _load(self):
        if self._registry is None:
            from referencing import Registry, Resource  # deferred: a run whose files are cached never validates

            resources = []
            for path in sorted(self.directory.glob("*.json")):
                schema = json.loads(path.read_text(encoding="utf-8"))
                resources.append((schema["$id"], Resource.from_contents(schema)))
            self._registry = Registry().with_resources(resources)
        return self._registry

    def fingerprint(self) -> str:
        """A hash of every schema file: a change to any schema invalidates what was validated with it."""
        if self._fingerprint is None:
            import hashlib

            digest = hashlib.sha256()
            for path in sorted(self.directory.glob("*.json")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def validator(self, schema_id: str):
        if schema_id not in self._validators:
            from jsonschema import Draft202012Validator

            schema = self._load().contents(schema_id)
            self._validators[schema_id] = Draft202012Validator(schema, registry=self._registry)
        return self._validators[schema_id]

    def field_units(self, catalog: str) -> dict[str, str]:
        """Unit of each field of a catalog's entries, from the schema's `unit` annotations."""
        schema = self._load().contents(f"catalog-{catalog}.v1")
        props = schema["$defs"]["entry"]["properties"]
        return {name: spec["unit"] for name, spec in props.items() if "unit" in spec}

    def validate(self, doc: Doc, kind: str | None = None) -> str:
        """Check `doc` against its schema; return its kind. Raises ImpactError listing every problem."""
        data = doc.data
        if not isinstance(data, dict):
            what = "empty" if data is None else f"a {_type_name(data)}"
            raise ImpactError(Problem(doc.loc(), f"the document is {what}", "a mapping with kind: and schema_version:"))
        schema_id = self._schema_id(doc, kind)
        self._load()
        problems = []
        for error in self.validator(schema_id).iter_errors(data):
            problems += _problems(doc, error)
        if problems:
            problems.sort(key=lambda p: (p.location.line, p.location.column, p.location.path))
            raise ImpactError(problems)
        return data["kind"]

    def _schema_id(self, doc: Doc, want: str | None) -> str:
        data = doc.data
        found = data.get("kind")
        if found is None:
            raise ImpactError(
                Problem(
                    doc.loc(), "missing required key 'kind'", f"kind: {want}" if want else "kind: " + " | ".join(KINDS)
                )
            )
        if found not in KINDS:
            raise ImpactError(
                Problem(
                    doc.loc(("kind",)),
                    f"unknown kind {_show(found)}",
                    "one of " + ", ".join(KINDS),
                    suggest(found, KINDS) if isinstance(found, str) else None,
                )
            )
        if want and found != want:
            raise ImpactError(Problem(doc.loc(("kind",)), f"this file is a {found}, not a {want}", f"kind: {want}"))
        version = data.get("schema_version")
        known = sorted(
            int(n.rsplit(".v", 1)[1])
            for n in self.names()
            if n.startswith(found + (("-" + str(data.get("catalog"))) if found == "catalog" else "") + ".v")
        )
        if found == "catalog":
            catalogs = sorted(
                {n.split(".v")[0].removeprefix("catalog-") for n in self.names() if n.startswith("catalog-")}
            )
            name = data.get("catalog")
            if name not in catalogs:
                where = ("catalog",) if "catalog" in data else ()
                raise ImpactError(
                    Problem(
                        doc.loc(where),
                        f"unknown catalog {_show(name)}" if name else "missing required key 'catalog'",
                        "one of " + ", ".join(catalogs),
                        suggest(name, catalogs) if isinstance(name, str) else None,
                    )
                )
        if isinstance(version, bool) or not isinstance(version, int) or version not in known:
            where = ("schema_version",) if "schema_version" in data else ()
            shown = "missing" if version is None else _show(version)
            raise ImpactError(
                Problem(
                    doc.loc(where), f"schema_version {shown} is not supported", "one of " + ", ".join(map(str, known))
                )
            )
        prefix = f"catalog-{data['catalog']}" if found == "catalog" else found
        return f"{prefix}.v{version}"


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "null" if value is None else type(value).__name__


_ARTICLE = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "nothing",
}


def _show(value) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(error, default: str) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return schema.get("expected", default)


def _problems(doc: Doc, error):
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind in ("anyOf", "oneOf") and error.context:
        # among the alternatives with the value's shape (no type error at this path), the one with the fewest
        # errors holds the real ones; otherwise the value is of the wrong shape entirely: say what was expected
        branches = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [
            subs
            for subs in branches.values()
            if not any(e.validator == "type" and len(e.absolute_path) == len(path) for e in subs)
        ]
        fewest = min((len(subs) for subs in fitting), default=0)
        closest = [subs for subs in fitting if len(subs) == fewest]
        if len(closest) == 1:  # the one alternative of the value's shape that is nearest to valid
            for sub in closest[0]:
                yield from _problems(doc, sub)
            return
        yield Problem(
            doc.loc(path), f"{_show(instance)} is not a valid value", _expected(error, "a value of the documented form")
        )
        return
    if kind == "required":
        for name in value:
            if isinstance(instance, dict) and name not in instance:
                yield Problem(
                    doc.loc(path),
                    f"missing required key '{name}'",
                    _expected(error, f"a mapping with {', '.join(value)}"),
                )
        return
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield Problem(
                    doc.key_loc(path + (key,)),
                    f"unknown key '{shorten(key)}'",
                    "one of " + ", ".join(allowed) if allowed else "no keys here",
                    suggest(key, allowed),
                )
        return
    if kind == "type":
        wanted = value if isinstance(value, str) else " or ".join(value)
        article = " or ".join(_ARTICLE.get(t, t) for t in ([value] if isinstance(value, str) else value))
        found = _type_name(instance)
        message = f"{_show(instance)} is {'an' if found[0] in 'aeiou' else 'a'} {found}, not {article}"
        if wanted == "integer" and isinstance(instance, float):
            message = f"{_show(instance)} is not a whole number"
        yield Problem(doc.loc(path), message, _expected(error, article))
        return
    messages = {
        "minimum": lambda: f"{_show(instance)} is less than the minimum of {value}",
        "exclusiveMinimum": lambda: f"{_show(instance)} is not greater than {value}",
        "maximum": lambda: f"{_show(instance)} is more than the maximum of {value}",
        "exclusiveMaximum": lambda: f"{_show(instance)} is not less than {value}",
        "const": lambda: f"{_show(instance)} is not allowed here",
        "enum": lambda: f"{_show(instance)} is not an allowed value",
        "pattern": lambda: f"{_show(instance)} does not have the required form",
        "minLength": lambda: "the text is empty",
        "minItems": lambda: f"the list has fewer than {value} item(s)",
        "minProperties": lambda: f"the mapping has fewer than {value} key(s)",
        "oneOf": lambda: f"{_show(instance)} matches more than one of the allowed forms",
    }
    defaults = {
        "minimum": f"a value of at least {value}",
        "exclusiveMinimum": f"a value above {value}",
        "maximum": f"a value of at most {value}",
        "exclusiveMaximum": f"a value below {value}",
        "const": _show(value),
        "enum": "one of " + ", ".join(map(str, value)) if kind == "enum" else "",
        "pattern": f"text matching {value}",
        "minLength": "a non-empty string",
        "minItems": f"at least {value} item(s)",
        "minProperties": f"at least {value} key(s)",
        "oneOf": "exactly one of the allowed forms",
    }
    hint = suggest(instance, value) if kind == "enum" and isinstance(instance, str) else None
    if error.validator == "propertyNames" or (
        error.relative_schema_path and "propertyNames" in error.relative_schema_path
    ):
        # a key of the wrong form: jsonschema reports the parent path, the key is the instance
        yield Problem(
            doc.key_loc(path + (instance,)),
            f"the key {_show(instance)} is not a valid name",
            _expected(error, "a valid name"),
            hint,
        )
        return
    message = messages.get(kind, lambda: f"{_show(instance)} fails the '{kind}' rule")()
    yield Problem(doc.loc(path), message, _expected(error, defaults.get(kind, f"a value satisfying {kind}")), hint)
