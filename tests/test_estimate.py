"""Closed-model parameter estimation from API price (seed 000's method)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.estimate import _fit, estimate, known_size, load_prices, price_of


def test_log_log_fit_and_prediction_error_by_hand():
    x = np.log([0.1, 0.2, 0.5, 1.0, 2.0])
    y = np.log([3.0, 8.0, 13.0, 70.0, 120.0])
    fit = _fit("p", list(zip(x, y, strict=True)))
    b1, b0 = np.polyfit(x, y, 1)  # least squares line
    assert (fit.b0, fit.b1) == pytest.approx((b0, b1), rel=1e-12)
    s = math.sqrt(((y - (b0 + b1 * x)) ** 2).sum() / (5 - 2))  # residual standard error, n - 2 dof
    ln_p, se = fit.predict(0.7)
    x0 = math.log(0.7)
    assert ln_p == pytest.approx(b0 + b1 * x0, rel=1e-12)
    assert se == pytest.approx(s * math.sqrt(1 + 1 / 5 + (x0 - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum()), rel=1e-12)


def test_providers_combine_by_inverse_variance(tree):
    one = estimate(tree, [("deepinfra", 0.5)])
    two = estimate(tree, [("together_ai", 0.5)])
    both = estimate(tree, [("deepinfra", 0.5), ("together_ai", 0.5)])
    (a,), (b,) = one.predictions, two.predictions
    w = np.array([1 / a["se"] ** 2, 1 / b["se"] ** 2])
    assert math.log(both.point_b) == pytest.approx((w[0] * a["ln_estimate"] + w[1] * b["ln_estimate"]) / w.sum())
    assert both.high_b / both.point_b < min(one.high_b / one.point_b, two.high_b / two.point_b)  # narrower


def test_a_closed_model_gets_an_interval_and_the_conservative_bound(runner):
    result = runner.invoke(main, ["estimate-params", "--provider", "openai", "--model", "gpt-4o", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["low_b"] < found["point_b"] < found["high_b"] == found["conservative_b"]
    assert found["predictions"][0]["fit"] == "pooled"  # OpenAI publishes no sizes to fit on
    assert found["predictions"][0]["price"] == 2.5


def test_an_open_model_of_known_size_falls_in_its_interval(tree):
    # Llama 3.1 70B (70.55B) at Together's $0.88/M input, with the model left out of the fit
    found = estimate(tree, [("together_ai", 0.88)], exclude="together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo")
    assert found.low_b <= 70.55 <= found.high_b


def test_the_95_percent_interval_covers_about_95_percent_of_known_sizes(tree):
    rows = [r for r in load_prices(tree) if r["params_basis"] and r["params_basis"].startswith("published")]
    known = [r for r in rows if known_size(r) and price_of(r, "input")]
    intervals = [estimate(tree, [(r["provider"], price_of(r, "input"))], exclude=r["model"]) for r in known]
    inside = sum(found.low_b <= known_size(r) <= found.high_b for found, r in zip(intervals, known, strict=True))
    print(f"\nleave-one-out coverage: {inside}/{len(known)} = {inside / len(known):.1%}")
    assert len(known) > 100
    assert inside / len(known) >= 0.90


def test_a_scenario_naming_an_api_model_uses_and_marks_the_estimate(runner):
    path = str(REPO / "scenarios" / "api-closed-model.yaml")
    (run,) = json.loads(runner.invoke(main, ["run", path, "--format", "json"]).stdout)["runs"]
    found = json.loads(runner.invoke(main, ["estimate-params", "--provider", "openai", "--model", "gpt-4o",
                                            "--format", "json"]).stdout)  # fmt: skip
    assert run["inputs"]["P_m"]["value"] == pytest.approx(found["conservative_b"] * 1e9)
    assert "ESTIMATE from API price" in run["inputs"]["P_m"]["source"]
    assert "95% interval" in run["inputs"]["P_m"]["source"]
    assert any(a.startswith("model: openai/gpt-4o parameters ESTIMATE") for a in run["assumptions"])


@pytest.mark.parametrize("args, expected", [
    (["--provider", "opena", "--price-in", "2"],
     "--provider opena: unknown provider 'opena'; expected a provider of catalogs/benchmarks/api-prices.yaml, or "
     "any\n  hint: did you mean 'openai'?\n"),
    (["--provider", "openai", "--basis", "blend", "--price-in", "2"],
     "--basis blend: no price given; expected --price-in and --price-out or --model\n"),
    (["--provider", "openai", "--price-in", "-1"],
     "--price-in -1: -1 is not positive; expected a positive price in USD per million tokens\n"),
    (["--price-in", "nan"],  # it used to print "nanB"
     "--price-in nan: 'nan' is not a finite number; expected a positive price in USD per million tokens, such as "
     "2.5\n"),
    (["--price-in", "1e999"],
     "--price-in 1e999: '1e999' is not a finite number; expected a positive price in USD per million tokens, such "
     "as 2.5\n"),
])  # fmt: skip
def test_errors(runner, args, expected):
    result = runner.invoke(main, ["estimate-params", *args])
    assert result.exit_code == 1
    assert result.stderr == expected


def test_the_provider_defaults_to_the_pooled_fit(runner):
    """`estimate-params --price-in 2.5` used to fail on a missing --provider; it means --provider any."""
    plain = runner.invoke(main, ["estimate-params", "--price-in", "2.5", "--format", "json"])
    named = runner.invoke(main, ["estimate-params", "--price-in", "2.5", "--provider", "any", "--format", "json"])
    assert plain.exit_code == 0 and plain.stdout == named.stdout
    assert json.loads(plain.stdout)["provider"] == "any"


def test_a_non_finite_price_is_refused_by_the_engine_too(tree):
    from impact.engine import ImpactError

    with pytest.raises(ImpactError, match="the input price of openai is nan; expected a positive, finite price"):
        estimate(tree, [("openai", float("nan"))])
