"""JSON text that is always valid JSON: no bare NaN or Infinity, which `json.dumps` writes by default.

impact reports a non-finite result as an error where it arises (engine.evaluate, the loader, the number
parser), so none should reach an output. Should one still (a total that overflows float64, a statistic of an
empty set), the rule is: a number that is not finite is written as `null`, never as `NaN` or `Infinity`,
and the text is produced with `allow_nan=False`, so a new path that forgets this fails loudly instead of
writing something no JSON parser reads.
"""

from __future__ import annotations

import json
import math


def finite(value):
    """`value` with every float that is not finite replaced by None (dicts, lists and tuples walked)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value, **kwargs) -> str:
    """`json.dumps(value, **kwargs)` with non-finite numbers written as null (see the module docstring)."""
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:  # a non-finite float somewhere: the rare case pays for the walk
        return json.dumps(finite(value), allow_nan=False, **kwargs)
