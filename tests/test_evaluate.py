"""The two evaluation paths agree: numexpr (many rows) and numpy on the checked syntax tree (one row), for
every formula of every shipped methodology and optimization, on random positive inputs."""

from __future__ import annotations

import numexpr
import numpy as np
import pytest

from impact.engine.evaluate import _one_row
from impact.engine.methodology import apply


def every_formula(tree):
    methods = list(tree.methodologies().values())
    for opt in tree.optimizations().values():
        methods += [apply(m, opt) for m in tree.methodologies().values() if m.name in opt.applies_to]
    for method in methods:
        yield from ((method.name, f) for f in method.formulas.values())


def test_one_row_equals_numexpr_for_every_shipped_formula(tree):
    rng = np.random.default_rng(0)
    checked = 0
    for _, formula in every_formula(tree):
        for _ in range(20):
            local = {name: rng.uniform(0.5, 2000.0, 1) for name in formula.reads}
            expected = numexpr.evaluate(formula.expr, local_dict=local, global_dict={})
            found = _one_row(formula.expr, local)
            want = np.asarray(expected, np.float64)  # nan where both paths give nan (a negative base ** a fraction)
            assert np.asarray(found, dtype=np.float64) == pytest.approx(want, rel=1e-12, nan_ok=True)
            checked += 1
    assert checked >= 20 * 60


@pytest.mark.parametrize(
    "expr",
    ["a % b", "a ** b", "where(a > b, a, b)", "minimum(a, b) - maximum(a, b)", "ceil(a / b) + floor(b / a)",
     "log(a) + exp(-b) + sqrt(a) + abs(-a)", "(a > b) * 2 + (a <= b)", "where((a > 1) & (b < 3) | ~(a > b), 1, 0)",
     "a / 0", "-a % b", "1 / 2 + 2 ** -1"],
)  # fmt: skip
def test_operators_agree_including_signs_and_division_by_zero(expr):
    values = np.array([-7.5, 7.5, 0.0, 2.0, -2.0])
    for a in values:
        for b in values:
            local = {"a": np.array([a]), "b": np.array([b])}
            with np.errstate(all="ignore"):
                expected = np.asarray(numexpr.evaluate(expr, local_dict=local, global_dict={}), dtype=np.float64)
            found = np.asarray(_one_row(expr, local), dtype=np.float64)
            assert np.array_equal(found, expected, equal_nan=True) or found == pytest.approx(expected, rel=1e-12), (
                expr, a, b)  # fmt: skip
