"""Give every input a methodology needs a value, a unit and a source.

An input's value comes, in this order, from an override (`--set`, then the scenario's `set:`), from the
first of its bindings that the selected entries can answer (`model.active_params_b`,
`accelerator.dense_tflops[precision.compute]`, ...; multiplied by the input's `scale`), or from its
`default`. When a binding could not answer and a default was used, a warning says so; when a later binding of
the list answered because the first could not, the input's `on_fallback` (warn, assume; quiet by default) says
whether that is noted too (market_gco2e_per_kwh falls back to the grid average so). Values are checked
against the input's `minimum`, `maximum` and `integer`. The result is a mapping of name -> `Value`, with
arrays of length `n`. No file is read here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import numbers, uncertainty
from .errors import ImpactError, Location, Problem
from .methodology import Binding, Input, Methodology
from .scenario import Override, Scenario


@dataclass
class Value:
    """A resolved input: the numbers, their unit, and where they came from."""

    value: np.ndarray
    unit: str
    source: str
    location: Location | None = None
    binding: Binding | None = None  # the catalog or scenario field it was read from, if any
    spread: object = None  # an uncertainty.Dist when the value is uncertain (a range or a distribution)


def resolve(method: Methodology, scenario: Scenario, overrides: dict[str, Override], n: int = 1):
    """Values for every input and constant the formulas read: (formula order, values, warnings, assumptions).

    A default used because the selected entries lack a field is a warning (a missing fact counted as the
    default), unless the input says `on_missing: assume` (the default is the documented assumption, listed among
    the assumptions) or `quiet` (a missing field means the default, as no `experts` means a dense model)."""
    given = {name: o for name, o in {**scenario.overrides, **overrides}.items() if name in method.names()}
    formulas, inputs, constants = method.plan(given)
    values: dict[str, Value] = {}
    warnings: list[str] = []
    assumptions: list[str] = []
    for name, override in given.items():
        values[name] = _override(method, override, n)
    for name in constants:
        c = method.constants[name]
        values[name] = Value(np.full(n, c.value), c.unit, f"{c.file}:{c.location.line}: constant", c.location)
    problems = []
    for name in inputs:
        try:
            on_missing = method.inputs[name].on_missing
            notes = {"assume": assumptions, "quiet": []}.get(on_missing, warnings)
            fallback = {"warn": warnings, "assume": assumptions}.get(method.inputs[name].on_fallback, [])
            values[name] = _bound(method.inputs[name], method, scenario, n, notes, fallback)
        except ImpactError as exc:
            problems += exc.problems
    if problems:
        raise ImpactError(problems)
    for name, item in method.inputs.items():
        if name in values:
            check_range(item, values[name])
    used = {b.entity for name in inputs for b in method.inputs[name].bindings}
    for entity, notes in getattr(scenario, "entity_notes", {}).items():
        if entity in used:
            assumptions += notes
    check_token_classes(method, values)
    return formulas, values, warnings, assumptions


def _bound_to(method: Methodology, field: str) -> str | None:
    return next((n for n, i in method.inputs.items() if any(b.entity == "request" and b.field == field
                                                             for b in i.bindings)), None)  # fmt: skip


def check_token_classes(method: Methodology, values: dict[str, Value]) -> None:
    """The input bound to request.cached_input_tokens may not exceed the one bound to request.input_tokens (the
    cached tokens are part of the input), whatever supplied them: the scenario, --set, a sweep or a log."""
    cached, total = _bound_to(method, "cached_input_tokens"), _bound_to(method, "input_tokens")
    if cached is None or total is None or cached not in values or total not in values:
        return
    c, t = np.broadcast_arrays(values[cached].value, values[total].value)
    over = c > t
    if np.any(over):
        i = int(np.argmax(over))
        where = values[cached].location or Location(None, path=cached)
        raise ImpactError(Problem(where, f"{cached} = {c[i]:g} cached input tokens is more than {total} = {t[i]:g}",
                                  f"{cached} <= {total} (the cached tokens are part of the input)"))  # fmt: skip


def _override(method: Methodology, override: Override, n: int) -> Value:
    unit = method.unit_of(override.name)
    raw = override.raw
    if isinstance(raw, dict):  # a range or a distribution, in the input's own unit
        dist = uncertainty.parse(raw, override.loc, unit)
        return Value(np.full(n, dist.point), unit, override.source, override.location, spread=dist)
    try:
        number = numbers.parse(raw, unit)
    except numbers.NumberProblem as exc:
        raise ImpactError(Problem(override.location, str(exc), numbers.expected(unit))) from None
    return Value(np.full(n, number), unit, override.source, override.location)


def _bound(item: Input, method: Methodology, scenario: Scenario, n: int, warnings: list[str],
           fallbacks: list[str] | None = None) -> Value:  # fmt: skip
    misses = []
    found = first_binding(item, scenario, misses)
    if found is not None:
        binding, number, entry, location, dist = found
        if misses and fallbacks is not None:  # a later binding answered: say which, when the input asks to
            reasons = "; ".join(reason for _, reason in misses)
            fallbacks.append(f"{item.name}: {reasons}; used {binding} = {number:g} {item.unit}".rstrip())
        scale = f" x {item.scale:g}" if item.scale != 1 else ""
        cite = entry.data.get("source") if entry.catalog in ("request", "hardware") else entry.cite(binding.field)
        what = f"{binding.entity if entry.catalog in ('request', 'hardware') else entry.id}." + _field_text(
            binding, scenario
        )
        source = f"{entry.file}:{location.line}: {what}{scale}" + (f"; {cite}" if cite else "")
        return Value(np.full(n, number), item.unit, source, location, binding, dist)
    reasons = "; ".join(reason for _, reason in misses)
    if item.default is not None:
        if misses:
            warnings.append(f"{item.name}: {reasons}; used the default {item.default:g} {item.unit}".rstrip())
        return Value(
            np.full(n, float(item.default)),
            item.unit,
            f"{item.file}:{item.default_location.line}: default",
            item.default_location,
        )
    where = misses[0][0] if misses else scenario.doc.loc()
    raise ImpactError(
        Problem(
            where,
            f"no value for input '{item.name}' of {method.name}: " + (reasons or "no binding or default supplies it"),
            f"the field in the catalog entry, or --set {item.name}=VALUE" + (f" in {item.unit}" if item.unit else ""),
        )
    )


def first_binding(item: Input, scenario: Scenario, misses: list):
    """(binding, value x scale, entry, location, Dist or None) from the first of the input's bindings that the
    scenario's entries answer, or None after noting each (location, reason) in `misses`."""
    for binding in item.bindings:
        found = lookup(binding, scenario, misses)
        if found is not None:
            number, entry, location, dist = found
            return binding, number * item.scale, entry, location, dist and dist.scaled(item.scale)
    return None


def _field_text(binding: Binding, scenario: Scenario) -> str:
    if binding.key_entity:
        key = scenario.entities[binding.key_entity].data.get(binding.key_field)
        return f"{binding.field}.{key}"
    return binding.field


def lookup(binding: Binding, scenario: Scenario, misses: list):
    """(number, entry, location, Dist or None) for a binding, or None after noting (location, reason) in
    `misses`. An uncertain field (a range or a distribution) answers with its point value and its Dist."""
    entry = scenario.entities.get(binding.entity)
    if entry is None:
        if binding.entity in scenario.missing:  # e.g. no location: say so when a formula needs the region
            raise ImpactError(scenario.missing[binding.entity])
        return None
    value = entry.data.get(binding.field)
    location = entry.loc(binding.field)
    if binding.key_entity:
        key_entry = scenario.entities.get(binding.key_entity)
        key = key_entry.data.get(binding.key_field) if key_entry else None
        if key_entry is not None and key is None:  # e.g. a user's accelerator without `architecture`
            misses.append((key_entry.loc(), f"{_name(key_entry)} has no {binding.key_field}"))
            return None
        if not isinstance(value, dict) or key not in value:
            misses.append((entry.loc(), f"{_name(entry)} has no {binding.field}.{key}"))
            return None
        value, location = value[key], entry.loc(binding.field, key)
    elif value is None:
        misses.append((entry.loc(), f"{_name(entry)} has no {binding.field}"))
        return None
    if uncertainty.is_uncertain(value):
        path = (binding.field, key) if binding.key_entity else (binding.field,)
        dist = uncertainty.parse(value, lambda k: entry.loc(*path, *([k] if k else [])))
        return dist.nominal, entry, location, dist
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ImpactError(Problem(location, f"{binding} is {value!r}, not a number", "a number"))
    return float(value), entry, location, None


def _name(entry) -> str:
    if entry.catalog in ("request", "hardware"):
        return f"the scenario's {entry.catalog}"
    noun = entry.catalog[:-1] if entry.catalog.endswith("s") else entry.catalog
    return f"{noun} '{entry.id}'"


def check_range(item: Input, value: Value) -> None:
    v = value.value
    where = value.location or Location(None, path=item.name)
    if item.integer and not np.all(np.floor(v) == v):
        raise ImpactError(
            Problem(
                where,
                f"{item.name} = {_first(v, np.floor(v) != v):g} is not a whole number",
                "a whole number" + (f" ({item.unit})" if item.unit else ""),
            )
        )
    if item.minimum is not None and np.any(v < item.minimum):
        raise ImpactError(
            Problem(
                where,
                f"{item.name} = {_first(v, v < item.minimum):g} is less than the minimum of {item.minimum:g}",
                f"{item.name} >= {item.minimum:g} {item.unit}".rstrip(),
            )
        )
    if item.maximum is not None and np.any(v > item.maximum):
        raise ImpactError(
            Problem(
                where,
                f"{item.name} = {_first(v, v > item.maximum):g} is more than the maximum of {item.maximum:g}",
                f"{item.name} <= {item.maximum:g} {item.unit}".rstrip(),
            )
        )


def _first(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[np.argmax(mask)])
