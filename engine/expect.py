"""Scenario expectations: the `expect:` entries a scenario may carry, evaluated by `impact check`.

    expect:
      - result: E            # a result (formula) of the scenario's methodologies
        methodology: scope3  # needed only when more than one of them computes the result
        value: 0.177         # a list of numbers, one per point, for a result with several (a sweep)
        unit: Wh             # optional: the unit of value (and abs), converted to the result's
        rel: 0.05            # relative tolerance, or abs: 0.01; exactly one (the schema says so)

An entry passes when every value found is within the tolerance of the value expected: |found - expected| <=
rel x |expected|, or <= abs. A failure names the entry's file, line and column, the value found, the value
expected and the tolerance. An entry naming a result or methodology the scenario does not have is an error
with a did-you-mean hint. `impact run` ignores `expect:`. This module does no I/O.
"""

from __future__ import annotations

import numpy as np

from .errors import ImpactError, Problem, fail, suggest
from .loader import Doc
from .numbers import NumberProblem
from .numbers import parse as parse_number


def check(doc: Doc, runs) -> list[tuple[str, Problem]]:
    """(level, problem) for each `expect:` entry of the scenario `doc`: an error when it fails, a note when
    it passes."""
    out = []
    for i, spec in enumerate(doc.data.get("expect") or []):
        try:
            out.append(_one(doc, ("expect", i), spec, runs))
        except ImpactError as exc:
            out += [("error", problem) for problem in exc.problems]
    return out


def _one(doc: Doc, at: tuple, spec: dict, runs) -> tuple[str, Problem]:
    run, result = _target(doc, at, spec, runs)
    found = np.asarray(result.value, dtype=float).ravel()
    given = spec["value"] if isinstance(spec["value"], list) else [spec["value"]]
    if len(given) != len(found):
        what = f"a list of {len(given)} numbers" if isinstance(spec["value"], list) else "one number"
        fail(doc.loc(at + ("value",)), f"{run.methodology}.{result.name} has {len(found)} value(s) (one per point "
             f"of the scenario), but value is {what}", f"a list of {len(found)} numbers"
             if len(found) > 1 else "a single number")  # fmt: skip
    unit = spec.get("unit", result.unit)
    expected = np.array([_convert(doc, at, v, unit, result.unit) for v in given])
    if "rel" in spec:
        bound, tolerance = spec["rel"] * np.abs(expected), f"rel {spec['rel']:g} (±{spec['rel'] * 100:g}%)"
    else:
        bound = np.full(len(expected), _convert(doc, at, spec["abs"], unit, result.unit))
        tolerance = f"abs {spec['abs']:g} {unit}".rstrip()
    miss = np.abs(found - expected) > bound * (1 + 1e-12)
    name = f"{run.methodology}.{result.name}"
    if not miss.any():
        return "note", Problem(doc.loc(at), f"{name} = {_values(found, result.unit)}, within {tolerance} of "
                               f"{_values(expected, result.unit)}")  # fmt: skip
    k = int(np.argmax(miss))
    index = f"[{k}]" if len(found) > 1 else ""
    more = f" (and {int(miss.sum()) - 1} more of {len(found)} points)" if miss.sum() > 1 else ""
    shown_expected = _show(expected[k], result.unit)
    if unit != result.unit:
        shown_expected = f"{given[k]:g} {unit} = {shown_expected}"
    message = f"{name}{index} = {_show(found[k], result.unit)}, {_change(found[k], expected[k])} the expected " \
              f"{shown_expected}{more}"  # fmt: skip
    return "error", Problem(doc.loc(at), message, f"{name}{index} within {tolerance} of {shown_expected}")


def _target(doc: Doc, at: tuple, spec: dict, runs):
    """(run, result) the entry names."""
    name = spec["result"]
    candidates = runs
    if "methodology" in spec:
        candidates = [r for r in runs if r.methodology == spec["methodology"]]
        if not candidates:
            ran = [r.methodology for r in runs]
            fail(doc.loc(at + ("methodology",)), f"the scenario does not run methodology '{spec['methodology']}'",
                 "one of " + ", ".join(ran), suggest(spec["methodology"], ran))  # fmt: skip
    having = [r for r in candidates if name in r.results]
    if not having:
        known = sorted({n for r in candidates for n in r.results})
        where = ", ".join(r.methodology for r in candidates)
        fail(doc.loc(at + ("result",)), f"no result '{name}' in {where}",
             f"a result of {where} (impact run --format json lists them)", suggest(name, known))  # fmt: skip
    if len(having) > 1:
        names = [r.methodology for r in having]
        fail(doc.loc(at + ("result",)), f"'{name}' is a result of " + " and ".join(names),
             "methodology: one of " + ", ".join(names))  # fmt: skip
    return having[0], having[0].results[name]


def _convert(doc: Doc, at: tuple, value: float, unit: str, target: str) -> float:
    """`value` in `unit` converted to `target`; a problem at the entry's `unit` when it cannot be."""
    if unit == target:
        return float(value)
    where = doc.loc(at + ("unit",))
    if not unit.strip() or not target.strip():
        fail(where, f"'{unit or 'a pure number'}' cannot be converted to '{target or 'a pure number'}'",
             f"a unit convertible to '{target}'" if target else "no unit (the result is a pure number)")  # fmt: skip
    try:  # the one parser of values people write: a bounded unit grammar, a finite result
        return parse_number(f"{float(value)!r} {unit}", target)
    except NumberProblem as exc:
        fail(where, str(exc), f"a unit convertible to '{target}', the result's")


def _show(value: float, unit: str) -> str:
    return f"{value:.6g} {unit}".rstrip()


def _values(values, unit: str) -> str:
    if len(values) == 1:
        return _show(values[0], unit)
    return "[" + ", ".join(f"{v:.6g}" for v in values) + f"] {unit}".rstrip()


def _change(found: float, expected: float) -> str:
    if expected == 0:
        return "not equal to"
    change = (found - expected) / abs(expected)
    return f"{abs(change) * 100:.3g}% {'above' if change > 0 else 'below'}"
