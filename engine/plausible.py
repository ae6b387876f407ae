"""Plausibility of catalog facts: values a schema allows but that are almost certainly slips.

A catalog field's schema may carry a `plausible` annotation, `{"min": 10, "max": 10000}` in the field's own
unit, and `"at_most": "other_field"` for a field that cannot exceed another of the same entry
(`active_params_b` at most `total_params_b`). A value outside is not invalid JSON, so the schema validator
passes it; here it is a problem: `tdp_w: 1.4` typed for 1.4 kW, an embodied range whose low end is below
zero, a mixture-of-experts model with more active than total parameters. The rules live in the schemas, so a
new field brings its own rule without code. A mapping (`dense_tflops: {fp16: ...}`) has each value checked;
a range or distribution has each of its parameters checked (low, high, mode, mean, median, value).
`impact check` reports every entry's problems as errors (`catalog_problems`); `impact run` shows those of the
entries a scenario uses as warnings (`entry_warnings`). The schema files are read as plain JSON, without
jsonschema, so a run pays no validator for this.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

from .errors import Problem

PARAMETERS = ("low", "high", "mode", "mean", "median", "value")


def rules(schemas, catalog: str) -> dict[str, tuple[dict, str]]:
    """field -> (its plausible annotation, its unit), from schemas/catalog-<catalog>.v1.json."""
    return _rules(str(schemas.directory / f"catalog-{catalog}.v1.json"))


@lru_cache(maxsize=64)
def _rules(path: str) -> dict[str, tuple[dict, str]]:
    try:
        with open(path, encoding="utf-8") as fh:
            props = json.load(fh)["$defs"]["entry"]["properties"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no schema of that name (or not one of ours): nothing to check; the validator says why
    found = {}
    for name, spec in props.items():
        rule = spec.get("plausible") if isinstance(spec, dict) else None
        if isinstance(rule, dict):
            found[name] = (rule, spec.get("unit", ""))
    return found


def entry_problems(schemas, entry, fields=None) -> list[Problem]:
    """The plausibility problems of one catalog entry (engine.tree.Entry), each at the field's location; with
    `fields`, only the ranges of those fields and the comparisons that involve one of them."""
    problems = []
    for name, (rule, unit) in rules(schemas, entry.catalog).items():
        other = rule.get("at_most")
        if name not in entry.data or (fields is not None and not {name, other} & set(fields)):
            continue
        for path, value in _numbers(entry.data[name]) if fields is None or name in fields else ():
            problem = _outside(entry, name, path, value, rule, unit)
            if problem:
                problems.append(problem)
        mine, theirs = _point(entry.data.get(name)), _point(entry.data.get(other)) if other else None
        if mine is not None and theirs is not None and mine > theirs:
            line = entry.loc(other).line
            problems.append(Problem(entry.loc(name), f"{_label(entry)} {name} = {mine:g}{_unit(unit)} is above its "
                                    f"{other} = {theirs:g} (line {line})",
                                    f"{name} at most {other}", "are the two swapped?"))  # fmt: skip
    return problems


def catalog_problems(schemas, catalogs: dict) -> list[Problem]:
    """The plausibility problems of every entry of every catalog (for impact check)."""
    return [p for table in catalogs.values() for entry in table.values() for p in entry_problems(schemas, entry)]


def entry_warnings(schemas, entities: dict, method) -> list[str]:
    """The problems of the catalog entries a run uses (`entities`: entity -> Entry) in the fields `method`'s
    bindings read, as one-line warnings (what is wrong, file:line, the plausible range)."""
    read: dict[str, set] = {}
    for item in method.inputs.values():
        for b in item.bindings:
            read.setdefault(b.entity, set()).add(b.field)
    out = []
    for entity, entry in entities.items():
        if entity not in read or not isinstance(getattr(entry, "data", None), dict):
            continue
        for problem in entry_problems(schemas, entry, read[entity]):
            where = problem.location
            at = f" ({where.file}:{where.line})" if where.file else ""
            out.append(f"implausible: {problem.message}{at}; expected {problem.expected}")
    return out


def _outside(entry, name, path, value, rule, unit) -> Problem | None:
    low, high = rule.get("min", -math.inf), rule.get("max", math.inf)
    if low <= value <= high:
        return None
    bound = low if value < low else high
    side = f"{'below the plausible minimum' if value < low else 'above the plausible maximum'} {bound:g}{_unit(unit)}"
    shown = ".".join([name, *path])
    hint = None
    for factor, word in ((1000, "x 1000"), (1e-3, "/ 1000")):
        if low <= value * factor <= high:
            hint = f"{value * factor:g}{_unit(unit)} ({word}) would be plausible: a unit slip?"
            break
    return Problem(entry.loc(name, *path), f"{_label(entry)} {shown} = {value:g}{_unit(unit)} is {side}",
                   f"a value from {low:g} to {high:g}{_unit(unit)} (plausible: in schemas/catalog-"
                   f"{entry.catalog}.v1.json)", hint)  # fmt: skip


def _numbers(value, path=()):
    """(path inside the field, number) for a number, each value of a mapping, each parameter of a range."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield path, float(value)
    elif isinstance(value, dict):
        uncertain = any(k in value for k in ("distribution", "low", "high", "mean", "median"))
        for key, item in value.items():
            if uncertain and key not in PARAMETERS:
                continue  # sigma, source, notes: not in the field's unit
            yield from _numbers(item, (*path, str(key)))


def _point(value) -> float | None:
    """A number, or the point value of a range or distribution; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        for key in ("value", "mode", "mean", "median"):
            if isinstance(value.get(key), (int, float)) and not isinstance(value.get(key), bool):
                return float(value[key])
        if all(isinstance(value.get(k), (int, float)) for k in ("low", "high")):
            return (value["low"] + value["high"]) / 2
    return None


def _label(entry) -> str:
    noun = entry.catalog[:-1] if entry.catalog.endswith("s") else entry.catalog
    return f"{noun} '{entry.id}'"


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""
