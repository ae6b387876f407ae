"""A methodology's checks: conditions on its own inputs and results, declared in its formulas file.

    checks:
      fits:
        expr: memory_budget >= kv_per_request          # holds, or the check fails
        level: error                                   # error | warning | assumption
        message: "the model does not fit: {weights} GB of weights ..."
        expected: more accelerators (hardware.gpus) or a lower precision
        at: hardware.gpus                              # the scenario key the message points at
        when: concurrency_given > 0                    # optional: only where this holds

A check is evaluated after the formulas, at every point (one for a scenario, many for a sweep or a log). An
error stops the run with one located line; a warning or an assumption is added to the run's notes. `{name}` in a
message is replaced by the value of that input or result (at the first point where the check fails). So a rule
such as "the model must fit in memory" is methodology data, like a formula, not code.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import ImpactError, Problem
from .evaluate import _one_row
from .methodology import Methodology


def run_checks(method: Methodology, env: dict[str, np.ndarray], scenario, what: str = "point") -> tuple[list, list]:
    """(warnings, assumptions) of `method`'s checks over `env` (name -> array of every input and result);
    raises ImpactError for a failed error check, located at its `at` key in the scenario."""
    warnings, assumptions, problems = [], [], []
    for check in method.checks.values():
        if any(name not in env for name in check.reads):
            continue  # a name the run overrode away or did not compute: nothing to check
        local = {name: np.asarray(env[name], dtype=np.float64) for name in check.reads}
        failed = ~_truth(check.expr, local)
        if check.when:
            failed &= _truth(check.when, local)
        if not failed.any():
            continue
        i = int(np.argmax(failed))
        message = _fill(check.message, local, i)
        if failed.size > 1:
            message += f" ({what} {i + 1}" + (f" and {int(failed.sum()) - 1} more)" if failed.sum() > 1 else ")")
        if check.level == "error":
            where = scenario.doc.loc(tuple(check.at.split("."))) if check.at else scenario.doc.loc()
            problems.append(Problem(where, message, check.expected))
        else:
            (warnings if check.level == "warning" else assumptions).append(f"{check.name}: {message}")
    if problems:
        raise ImpactError(problems)
    return warnings, assumptions


def _truth(expr: str, local: dict) -> np.ndarray:
    out = np.asarray(_one_row(expr, local), dtype=np.float64).reshape(-1)
    n = max([len(v) for v in local.values()] + [1])
    return np.broadcast_to(out != 0, (n,)).copy()


def _fill(message: str, local: dict, i: int) -> str:
    def value(match) -> str:
        array = local[match.group(1)]
        number = float(array[i] if len(array) > 1 else array[0])
        if number == int(number) and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:,.4g}" if abs(number) < 1e15 else f"{number:.4g}"

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", value, message)
