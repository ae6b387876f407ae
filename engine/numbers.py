"""One parser for every number a person writes: `--set`, a scenario's `set:`, sweep values, request-log cells,
the parameters of a range or a distribution.

A value is a number, or a number followed by a unit: `1.1`, `-3`, `2.5e-3`, `700 W`, `0.7 kW`, `35 gCO2e/kWh`.
Nothing else is read as a number, on purpose:

- no arithmetic (`10**3`, `2*350 W`): a formula belongs in a formulas file;
- no decimal commas or thousands separators (`0,7 kW`, `1,500`): `0,7` is not 0.7 or 7, it is refused;
- no dates (`2024-01-01`), no leading `=` (`--set PUE==1`), no booleans (`true`);
- the number must be finite (`1e999`, `.inf`, `nan` are refused);
- the text is short (at most `MAX_TEXT` characters) and the unit is a product or quotient of unit names with
  single-digit exponents, so that neither this parser nor pint can be made to take long.

A unit is converted to the unit the input declares, with pint (imported only when a unit is written). Ranges
(minimum, maximum, whole numbers) are the caller's to check: they belong to the input, not to the text.
"""

from __future__ import annotations

import math
import re

from .units import UnitProblem, describe, parse_unit, registry

MAX_TEXT = 100
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?"
_NAME = r"[A-Za-z%°µμΩ][A-Za-z0-9_%°µμΩ]*"
_FACTOR = rf"{_NAME}(?:\s*(?:\^|\*\*)\s*-?\d)?"
_UNIT = rf"{_FACTOR}(?:\s*[*/·]\s*{_FACTOR})*"
_VALUE = re.compile(rf"(?P<number>{_NUMBER})(?:\s*(?P<unit>{_UNIT}))?")


class NumberProblem(ValueError):
    """Text that is not a number or a quantity, or a quantity of the wrong dimension; the message says which."""


def expected(unit: str) -> str:
    """The phrase after '; expected' for a value in `unit`."""
    if not unit:
        return "a plain number, such as 1.5"
    return f'a number in {unit}, or a number with a unit convertible to it, such as "2 {unit}"'


def parse(raw, unit: str = "") -> float:
    """The value of `raw` (a YAML number or a string) in `unit`; raises NumberProblem saying what is wrong."""
    if isinstance(raw, bool) or raw is None:
        raise NumberProblem(f"{_show(raw)} is not a number")
    if isinstance(raw, (int, float)):
        return _finite(float(raw), raw)
    if not isinstance(raw, str):
        raise NumberProblem(f"a {type(raw).__name__} is not a number")
    text = raw.strip()
    if len(text) > MAX_TEXT:
        raise NumberProblem(f"the value is {len(text):,} characters long (at most {MAX_TEXT})")
    match = _VALUE.fullmatch(text)
    if match is None:
        raise NumberProblem(_why_not(text))
    number = _finite(float(match["number"]), text)
    if match["unit"] is None:
        return number
    return _convert(number, match["unit"], unit, text)


def _finite(value: float, raw) -> float:
    if not math.isfinite(value):
        raise NumberProblem(f"{_show(raw)} is not a finite number")
    return value


def _convert(number: float, written: str, unit: str, text: str) -> float:
    try:
        have = parse_unit(written)
        target = parse_unit(unit)
    except UnitProblem:
        raise NumberProblem(f"{_show(text)}: '{written}' is not a unit impact knows") from None
    ureg = registry()
    quantity = ureg.Quantity(number, have)
    try:
        value = float(quantity.to(target).magnitude)
    except Exception:  # pint's DimensionalityError
        raise NumberProblem(f"{_show(text)} is {describe(written)}, which cannot be converted to "
                            f"{describe(unit)}") from None  # fmt: skip
    return _finite(value, text)


def _why_not(text: str) -> str:
    """Why text is not a number: the likeliest slip, said plainly."""
    shown = _show(text)
    if not text:
        return "the value is empty"
    if re.fullmatch(r"[+-]?\d+,\d+(?:\s*\S.*)?", text):
        return f"{shown} has a decimal comma or a thousands separator (write 0.7, not 0,7; 1500, not 1,500)"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text):
        return f"{shown} is a date, not a number"
    if text.startswith("="):
        return f"{shown} starts with '=' (write NAME=VALUE once)"
    if text.lower() in ("true", "false", "yes", "no", "on", "off"):
        return f"{shown} is not a number"
    if text.lower().lstrip("+-") in ("inf", "infinity", ".inf", "nan", ".nan"):
        return f"{shown} is not a finite number"
    if re.search(r"\d\s*(?:\*\*|\^|[*/+-])\s*[\d(.]", text) or "(" in text:
        return f"{shown} is an expression; only a number, or a number with a unit, is read here"
    return f"{shown} is not a number, or a number with a unit"


def _show(raw) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return repr(text if len(text) <= 40 else text[:37] + "...")
