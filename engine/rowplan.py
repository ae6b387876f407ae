"""Evaluate a methodology over a chunk of rows whose combinations of choices repeat (a batch's request log).

`Points.evaluate` gives every value that differs between combinations of choices (a model's parameter count,
a region's grid intensity) one element per row, and so evaluates every formula row by row. Here each value and
formula has one of three levels: the same at every row (an array of one), the same within a combination (one
value per combination), or varying by row (a column of the log, or a formula that reads one). The first two
are evaluated once per set of combinations and kept in a `Plan` across chunks (a log of a million requests
over twelve combinations of model and region evaluates them once, not ten times over 100,000 rows); only the
third is evaluated per row, reading each per-combination value through the rows' codes. Each expression is
evaluated by numpy on its checked syntax tree (`evaluate._one_row`, the path a single scenario takes): over
chunks of 100,000 rows that costs about 40% less than numexpr, whose `maximum`, `minimum` and `where` are slow
(README, Speed), and tests/test_evaluate.py holds both paths to the same values. Anything out of the ordinary
(a result that is not finite, an input out of its range, cached tokens above input tokens, combinations whose
resolutions differ in shape, a chunk of one row) goes to `Points.evaluate`, which reports it as it always has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ImpactError
from .evaluate import _one_row as _numpy
from .resolve import Value, _bound_to, check_range, check_token_classes

PLANS = 64  # plans kept per Points (one per set of combinations a chunk uses; most logs have one)
CONST, COMBO, ROW = 0, 1, 2


class _Fallback(Exception):
    """This chunk is evaluated by Points.evaluate (which reports any problem in its own words)."""


@dataclass
class Plan:
    """One methodology over one sorted set of combinations: what does not vary by row, computed."""

    env: dict[str, np.ndarray]  # values and results at CONST (length 1) and COMBO (one per combination) level
    level: dict[str, int]  # every name the evaluation reads or gives -> CONST, COMBO or ROW
    columns: dict[str, tuple[str, float | None, Value]]  # ROW value -> (column, scale of a field or None, value)
    rows: list[str]  # the formulas evaluated per row, in order
    last: dict[str, int]  # name -> the last step of `rows` that reads it
    targets: list[str]


def evaluate_rows(points, method, codes: np.ndarray, combos: list[dict], columns: dict, n: int, targets: list[str]):
    """The `targets` of one methodology at n rows, as `points.evaluate(...)[0]` gives them."""
    if n > 1:
        try:
            return _evaluate_rows(points, method, codes, combos, columns, n, targets)
        except (_Fallback, ImpactError):
            pass
    return points.evaluate(method, codes, combos, columns, n, targets)[0]


def _evaluate_rows(points, method, codes, combos, columns, n, targets) -> dict[str, np.ndarray]:
    used = [int(i) for i in np.flatnonzero(np.bincount(codes, minlength=len(combos)))] if len(combos) > 1 else [0]
    keys = [tuple(sorted(combos[i].items())) for i in used]
    ranked = sorted(range(len(used)), key=keys.__getitem__)
    index = (method.name, tuple(keys[j] for j in ranked), frozenset(columns), tuple(targets))
    plan = points._plans.get(index)
    if plan is None:
        plan = _plan(points, method, [combos[used[j]] for j in ranked], columns, targets)
        if len(points._plans) >= PLANS:
            points._plans.pop(next(iter(points._plans)))
        points._plans[index] = plan
    rows = None
    if len(used) > 1:  # each row's place among the sorted combinations
        position = np.zeros(len(combos), dtype=np.intp)
        position[[used[j] for j in ranked]] = np.arange(len(used))
        rows = position[codes]
    env = dict(plan.env)
    for name, (column, scale, value) in plan.columns.items():
        values = columns[column].values
        env[name] = np.asarray(values if scale is None else values * scale, dtype=np.float64)
        if name in method.inputs and name in columns:
            check_range(method.inputs[name], Value(env[name], value.unit, value.source))
    _token_classes(method, plan, env, rows)
    spread: dict[str, np.ndarray] = {}  # COMBO values read per row, one element per row
    with np.errstate(all="ignore"):
        for step, name in enumerate(plan.rows):
            formula = method.formulas[name]
            local = {}
            for read in formula.reads:
                if plan.level[read] == COMBO:
                    if read not in spread:
                        spread[read] = env[read][rows]
                    local[read] = spread[read]
                else:
                    local[read] = env[read]
            try:
                out = np.asarray(_numpy(formula.expr, local), dtype=np.float64).reshape(-1)
            except Exception:
                raise _Fallback from None
            if len(out) != n or (not np.isfinite(np.add.reduce(out)) and not np.isfinite(out).all()):
                raise _Fallback
            env[name] = out
            for read in formula.reads:  # let go of what no formula still to come reads
                if plan.last[read] <= step and read not in plan.targets:
                    spread.pop(read, None)
                    if plan.level[read] == ROW:
                        env.pop(read, None)
    results = {}
    for name in targets:
        if name not in env:
            continue
        level = plan.level[name]
        results[name] = env[name] if level == ROW else np.broadcast_to(env[name], (n,)) if level == CONST else (
            spread[name] if name in spread else env[name][rows])  # fmt: skip
    return results


def _token_classes(method, plan: Plan, env, rows) -> None:
    """check_token_classes on the rows (a failure goes to Points.evaluate, which reports it)."""
    bound = [_bound_to(method, field) for field in ("cached_input_tokens", "input_tokens")]
    if any(name is None or name not in env for name in bound):
        return
    values = {n: Value(env[n][rows] if plan.level[n] == COMBO else env[n], "", "") for n in bound}
    try:
        check_token_classes(method, values)
    except ImpactError:
        raise _Fallback from None


def _plan(points, method, combos: list[dict], columns: dict, targets: list[str]) -> Plan:
    """Resolve each combination (sorted), put every value at its level and evaluate what does not vary by row."""
    from .points import column_of

    resolved = [points.resolve(combo)[method.name] for combo in combos]
    first = resolved[0]
    if any(r.order != first.order or r.values.keys() != first.values.keys() for r in resolved[1:]):
        raise _Fallback
    needed = set(method.plan(set(first.values) - set(method.inputs) - set(method.constants), targets)[0])
    order = [name for name in first.order if name in needed]
    read = {r for name in order for r in method.formulas[name].reads}
    env, level, from_columns = {}, {}, {}
    for name, value in first.values.items():
        if name not in read and name not in method.formulas:
            continue
        source = column_of(method, name, value, columns)
        if source is not None:
            from_columns[name], level[name] = (*source, value), ROW
            continue
        numbers = np.array([r.values[name].value[0] for r in resolved], dtype=np.float64)
        same = bool(np.all(numbers == numbers[0]))
        env[name], level[name] = (numbers[:1], CONST) if same else (numbers, COMBO)
    rows = []
    with np.errstate(all="ignore"):
        for name in order:
            formula = method.formulas[name]
            level[name] = max((level[r] for r in formula.reads), default=CONST)
            if level[name] == ROW:
                rows.append(name)
                continue
            try:
                out = _numpy(formula.expr, {r: env[r] for r in formula.reads})
            except Exception:
                raise _Fallback from None
            out = np.asarray(out, dtype=np.float64).reshape(-1)
            if not np.isfinite(out).all():
                raise _Fallback
            env[name] = out
    last = {}
    for step, name in enumerate(rows):
        for r in method.formulas[name].reads:
            last[r] = step
    return Plan(env, level, from_columns, rows, last, list(targets))
