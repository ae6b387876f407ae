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
     "a / (b - b)", "-a % b", "1 / 2 + 2 ** -1"],
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


# ---- one semantics: a corpus of edge expressions through both paths (engine.expressions.lower)

from impact.engine import expressions  # noqa: E402
from impact.engine.evaluate import _many_rows  # noqa: E402

CORPUS = [
    "where(a, 1, 2)",  # a number as a condition: not zero (numexpr alone refused it)
    "where(a - a, 1, 2)",
    "-(a > b)",  # a condition as a number: 1.0 or 0.0 (numexpr alone refused unary minus on it)
    "(a > b) + (a <= b)",  # numexpr alone: logical or, True
    "(a > b) ** 2 + (a > b) % 2 + (a > b) / 2",
    "exp(a > b) + abs(a > b) + ceil(a > b)",  # numexpr alone: float32
    "maximum(a > b, 0.5)",
    "(a > b) == (b > a)",
    "a > (b > 1)",
    "~a & b | a",  # numbers as conditions of & | ~
    "where(a > b, a > 1, b)",
    "1 > 2",
    "7 % 3 + -7 % 3 + a % 3",  # integers: floats in both
    "2 ** -1 * a",
    "a * 3000000000 + 9223372036854775807",
    "a # a comment: with __dunder__ and a.b",
    "a ** 0.5 + (a - 5) ** 0.5",  # nan for a negative base at run time, in both
    "sqrt(a - 5) + log(a - 5)",
    "a / (b - b)",  # inf in both
    "10 ** 300 * a * a",  # overflows at run time, in both
    "(1 / 3) * a",
    "-(-(-a))",
    "(-1) ** a + (-2) ** b",  # a negative constant base keeps its parentheses in numexpr's text
]  # fmt: skip


@pytest.mark.parametrize("expr", CORPUS)
def test_both_paths_give_the_same_values_on_the_edge_corpus(expr):
    for a in (-7.5, 0.0, 1.0, 2.0, 1e200):
        for b in (-2.0, 0.0, 2.0):
            local = {"a": np.array([a]), "b": np.array([b])}
            with np.errstate(all="ignore"):
                one = np.asarray(_one_row(expr, local), dtype=np.float64).reshape(-1)
                many = np.asarray(_many_rows(expr, local), dtype=np.float64).reshape(-1)
                three = np.asarray(_many_rows(expr, {k: np.repeat(v, 3) for k, v in local.items()}), np.float64)
            assert one.dtype == many.dtype == np.float64
            assert np.allclose(one, many, rtol=1e-12, equal_nan=True), (expr, a, b, one, many)
            assert np.allclose(np.broadcast_to(one, 3), three, rtol=1e-12, equal_nan=True), (expr, a, b)


def test_conditions_and_numbers_mean_the_same_in_both_paths():
    local = {"a": np.array([2.0]), "b": np.array([1.0])}
    assert float(_one_row("(a > b) + (a > b)", local)[0]) == 2.0  # 1 + 1, not True
    assert float(_many_rows("(a > b) + (a > b)", {k: np.repeat(v, 2) for k, v in local.items()})[0]) == 2.0
    assert float(_one_row("where(a - 2, 10, 20)", local)[0]) == 20.0  # zero is false
    assert expressions.lower("a # note: x.y")[1] == "a"  # comments never reach numexpr


def _balanced(leaves: int) -> str:
    """A sum of `leaves` terms as a balanced tree: shallow, but many nodes."""
    return "a" if leaves == 1 else f"({_balanced(leaves // 2)} + {_balanced(leaves - leaves // 2)})"


@pytest.mark.parametrize(
    "expr, why",
    [("10**10**10", "overflows"), ("2**1024", "overflows"), ("1e400", "beyond the floating-point range"),
     ("(-1)**0.5 * a", "is not a real number"), ("a * (-8) ** (1/3)", "is not a real number"),
     ("1 / 0 + a", "divides by zero"), ("a / 0", "divides by the constant 0"), ("a % (1 - 1)", "divides by"),
     ("log(0) * a", "not a finite real number"), ("a * where(1 > 2, 1, 0) / (2 < 1)", "divides by"),
     ("99999999999999999999 * a", "beyond the 64-bit range"),
     ("1e308 * 10 + a", "overflows"), ("-" * 1000 + "a", "nests deeper than"),
     ("+".join(["a"] * 999), "nests deeper than"), (_balanced(256), "more than"),
     ("sum + a", "reserved"), ("max(a)", "not allowed"), ("a + real", "reserved"), ("contains * 2", "reserved"),
     ("arctan2 + a", "reserved"), ("where", "must be called")],
)  # fmt: skip
def test_what_either_path_could_not_compute_alike_is_refused_up_front(expr, why):
    with pytest.raises(expressions.UnsafeExpression) as info:
        expressions.lower(expr)
    assert why in str(info.value)


def test_every_numexpr_function_name_is_reserved():
    assert set(numexpr.expressions.functions) <= expressions.RESERVED
    assert set(expressions.FUNCTIONS) <= expressions.RESERVED


def test_shipped_formulas_are_within_the_size_bounds(tree):
    for _, formula in every_formula(tree):
        expressions.lower(formula.expr)  # raises if a bound or a constant part refuses it


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LEAVES = st.sampled_from(["a", "b", "0", "1", "2", "0.5", "3", "(-1)", "1e300", "7"])


def _grow(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "%", ">", "<=", "==", "&", "|"]),
                       children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")  # fmt: skip
    unary = st.tuples(st.sampled_from(["-", "~", "+"]), children).map(lambda t: f"{t[0]}({t[1]})")
    call1 = st.tuples(st.sampled_from(["sqrt", "log", "exp", "abs", "ceil", "floor"]), children).map(
        lambda t: f"{t[0]}({t[1]})")  # fmt: skip
    call2 = st.tuples(st.sampled_from(["minimum", "maximum"]), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})")  # fmt: skip
    where = st.tuples(children, children, children).map(lambda t: f"where({t[0]}, {t[1]}, {t[2]})")
    return binary | unary | call1 | call2 | where


@settings(max_examples=300, deadline=None)
@given(st.recursive(_LEAVES, _grow, max_leaves=12), st.sampled_from([-7.5, 0.0, 0.5, 2.0, 1e200]),
       st.sampled_from([-2.0, 0.0, 3.0]))  # fmt: skip
def test_random_expressions_give_one_answer_or_one_refusal(expr, a, b):
    try:
        expressions.lower(expr)
    except expressions.UnsafeExpression:
        return  # refused up front, for both paths alike
    local = {"a": np.array([a]), "b": np.array([b])}
    with np.errstate(all="ignore"):
        one = np.asarray(_one_row(expr, local), dtype=np.float64).reshape(-1)
        many = np.asarray(_many_rows(expr, {k: np.repeat(v, 2) for k, v in local.items()}), np.float64).reshape(-1)
    assert np.allclose(np.broadcast_to(one, many.shape), many, rtol=1e-9, equal_nan=True), (expr, a, b, one, many)
