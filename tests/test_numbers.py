"""The one parser of values people write (engine.numbers): numbers and quantities, nothing else."""

import math

import pytest

from impact.engine.numbers import NumberProblem, parse


@pytest.mark.parametrize(
    "raw, unit, value",
    [
        (1.5, "", 1.5),
        (3, "token", 3.0),
        ("1.1", "", 1.1),
        (".5", "", 0.5),
        ("-3", "", -3.0),
        ("2.5e-3", "", 0.0025),
        ("700 W", "W", 700.0),
        ("0.7 kW", "W", 700.0),  # 0.7 x 1000
        ("0.035 kgCO2e/kWh", "gCO2e/kWh", 35.0),  # 0.035 x 1000 g/kg
        ("1 h", "s", 3600.0),
        ("5 %", "", 0.05),
    ],
)
def test_numbers_and_quantities(raw, unit, value):
    assert math.isclose(parse(raw, unit), value, rel_tol=1e-12)


@pytest.mark.parametrize(
    "raw, unit, message",
    [
        ("0,7 kW", "W", "'0,7 kW' has a decimal comma"),
        ("1,5", "", "'1,5' has a decimal comma"),
        ("1,500", "", "thousands separator"),
        ("2024-01-01", "", "'2024-01-01' is a date"),
        ("=1", "", "starts with '='"),
        ("10**10**10", "", "is an expression"),
        ("10**10**10 W", "W", "is an expression"),
        ("2*350 W", "W", "is an expression"),
        ("1e999", "", "is not a finite number"),
        (float("inf"), "", "is not a finite number"),
        (float("nan"), "", "is not a finite number"),
        ("nan", "", "is not a finite number"),
        (True, "", "is not a number"),
        ("true", "", "is not a number"),
        (None, "", "is not a number"),
        ("700 kWh", "W", "'700 kWh' is energy (kWh), which cannot be converted to power (W)"),
        ("700 W", "", "is power (W), which cannot be converted to a pure number"),
        ("3 blorbs", "", "'blorbs' is not a unit"),
        ("700 W**10", "W", "is not a number, or a number with a unit"),
        ("", "", "the value is empty"),
        ("9" * 101, "", "101 characters long"),
    ],
)
def test_refused(raw, unit, message):
    with pytest.raises(NumberProblem, match=None) as caught:
        parse(raw, unit)
    assert message in str(caught.value)


def test_long_text_is_refused_quickly():
    import time

    start = time.perf_counter()
    with pytest.raises(NumberProblem):
        parse("1" * 100_000 + " W", "W")
    assert time.perf_counter() - start < 0.5
