"""Formula expressions are untrusted: only a tiny language is allowed (attacks from numexpr's test_sanitize)."""

from __future__ import annotations

import numexpr
import numpy as np
import pytest

from impact.engine.expressions import UnsafeExpression, names, parse


@pytest.mark.parametrize(
    "expr",
    [
        "2 * P_m * n_in / A_f",
        "where(a < b, a, b)",
        "minimum(a, 1) + maximum(b, 2)",
        "ceil(x / 80)",
        "-x ** 2 % 3",
        "(a <= b) & (b != 0) | ~(a > 1)",
        "sqrt(abs(x)) + log(exp(1.5)) + floor(2.5)",
    ],
)
def test_allowed(expr):
    parse(expr)


@pytest.mark.parametrize(
    "expr, reason",
    [
        ("__import__('os').system('id')", "only the listed functions may be called, by name"),
        ("x.__class__", "attribute access is not allowed in a formula"),
        ("x[0]", "indexing is not allowed in a formula"),
        ("(lambda: 1)()", "only the listed functions may be called, by name"),
        ("eval('1')", "the function 'eval' is not allowed"),
        ("'text'", "the constant 'text' is not a number"),
        ("True", "the constant True is not a number"),
        ("_secret + 1", "the name '_secret' starts with an underscore"),
        ("a if b else c", "an inline if (use where(cond, a, b)) is not allowed in a formula"),
        ("a and b", "'and'/'or' (use & and |) is not allowed in a formula"),
        ("not a", "'not' (use ~) is not allowed in a formula"),
        ("a < b < c", "a comparison must compare two values with < <= > >= == or !="),
        ("a // b", "the operator 'FloorDiv' is not allowed in a formula"),
        ("sqrt(x, y)", "sqrt() takes 1 argument(s), not 2"),
        ("where(a, b, c=1)", "where() takes no keyword arguments"),
        ("sqrt + 1", "'sqrt' is a function and must be called"),
        ("[x for x in y]", "a comprehension is not allowed in a formula"),
        ("(x := 1)", "an assignment is not allowed in a formula"),
        ("2 * (x", "the expression is not valid syntax ('(' was never closed)"),
        ("", "the expression is empty"),
        ("x + " * 600 + "x", "the expression is 2401 characters long, over the limit of 2000"),
    ],
)
def test_refused(expr, reason):
    with pytest.raises(UnsafeExpression) as err:
        parse(expr)
    assert str(err.value) == reason


def test_names_are_the_inputs_read_in_order():
    assert names(parse("b * P_m * n_out / A_bw + P_m")) == ["b", "P_m", "n_out", "A_bw"]
    assert names(parse("ceil(where(x > 0, x, y))")) == ["x", "y"]


def test_every_allowed_function_exists_in_numexpr():
    x = np.array([1.0, 4.0])
    for expr in (
        "where(x > 1, x, 0)",
        "minimum(x, 2)",
        "maximum(x, 2)",
        "ceil(x / 3)",
        "floor(x / 3)",
        "log(x)",
        "exp(x)",
        "sqrt(x)",
        "abs(x)",
    ):
        parse(expr)
        assert numexpr.evaluate(expr, local_dict={"x": x}, global_dict={}).shape == (2,)
