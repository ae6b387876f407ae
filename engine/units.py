"""Units, through pint, which is imported only when a unit has to be understood.

The numexpr hot path never sees units: formulas and catalog fields declare theirs as text. pint is used to
convert a quantity a person typed (`--set P_gpu="0.7 kW"`) into the unit the methodology declares, and to
check unit strings. Besides pint's own units, the registry knows counts (token, parameter, FLOP, request,
accelerator, CPU: dimensionless) and a carbon dimension (gCO2e, kgCO2e, tCO2e) that cannot be mixed with
mass of anything else, and `common_year` (365 days: use lives of 8760 h a year, as Scope3 counts).
"""

from __future__ import annotations

from functools import lru_cache

DEFINITIONS = """
token = []
parameter = []
FLOP = []
request = []
accelerator = []
CPU = []
gCO2e = [carbon]
kgCO2e = 1000 * gCO2e
tCO2e = 1000000 * gCO2e
common_year = 365 * day
"""


class UnitProblem(ValueError):
    """A quantity that cannot be read, or whose dimension does not match; the message says which."""


@lru_cache(maxsize=1)
def registry():
    import pint  # deferred: pint takes a noticeable time to import and build

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for line in DEFINITIONS.strip().splitlines():
        ureg.define(line)
    return ureg


def parse_unit(text: str):
    """The pint unit for a declared unit string ('' means dimensionless)."""
    ureg = registry()
    try:
        return ureg.Unit(text) if text.strip() else ureg.dimensionless
    except Exception as exc:  # pint raises several error types for bad unit text
        raise UnitProblem(f"'{text}' is not a known unit ({type(exc).__name__})") from None


def convert(text: str, unit: str) -> float:
    """Convert a quantity string such as '700 W' into `unit`, returning the magnitude."""
    ureg = registry()
    target = parse_unit(unit)
    try:
        quantity = ureg.Quantity(text)
    except Exception:
        raise UnitProblem(f"{text!r} is not a number or a quantity with a unit") from None
    if not hasattr(quantity, "to"):
        return float(quantity)
    try:
        return float(quantity.to(target).magnitude)
    except Exception:
        have = quantity.dimensionality
        raise UnitProblem(
            f"{text!r} is in {quantity.units:~} ({have}), which cannot be converted to "
            f"{unit or 'a pure number'} ({target.dimensionality})"
        ) from None
