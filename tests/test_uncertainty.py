"""Uncertainty: ranges and distributions, sampled reproducibly, summarised with percentiles and ranked by
rank correlation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from impact.engine import ImpactError, run
from impact.engine.errors import Location
from impact.engine.uncertainty import parse, summarise

UNCERTAIN = REPO / "scenarios" / "uncertain-datacenter.yaml"
CHATBOT = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"


def scope3(runs):
    return next(r for r in runs if r.methodology == "scope3")


def here(key=None):
    return Location("test.yaml", 1, 1, f"$.{key}" if key else "$")


def test_point_values_are_the_mode_median_or_catalog_value(tree):
    r = scope3(run(UNCERTAIN, tree=tree))
    assert r.inputs["PUE"].value[0] == 1.15  # triangular mode
    assert r.inputs["grid_intensity"].value[0] == 379.07  # lognormal median
    assert r.inputs["gpu_embodied"].value[0] == 164  # the catalog range's point value
    assert r.uncertainty is None  # no samples asked for


def test_samples_are_reproducible_for_a_seed(tree):
    a = scope3(run(UNCERTAIN, tree=tree, samples=2000, seed=5)).uncertainty["results"]["emissions"]
    b = scope3(run(UNCERTAIN, tree=tree, samples=2000, seed=5)).uncertainty["results"]["emissions"]
    c = scope3(run(UNCERTAIN, tree=tree, samples=2000, seed=6)).uncertainty["results"]["emissions"]
    assert (a.p5, a.p50, a.p95, a.mean) == (b.p5, b.p50, b.p95, b.mean)
    assert a.p50 != c.p50
    assert a.p5 < a.p50 < a.p95


def test_a_uniform_pue_scales_facility_energy_exactly(tree):
    # E_facility = PUE * E with E fixed: its percentiles are E times those of PUE ~ U(1.1, 1.4):
    # p5 = 1.1 + 0.05 * 0.3 = 1.115, p50 = 1.25, p95 = 1.385 (to sampling error, ~0.2% at 100k samples),
    # and its rank correlation with PUE is exactly 1.
    r = scope3(run(CHATBOT, tree=tree, set={"PUE": {"low": 1.1, "high": 1.4}}, samples=100_000, seed=1))
    e = r.results["E"].value[0]
    spread = r.uncertainty["results"]["E_facility"]
    assert spread.p5 == pytest.approx(1.115 * e, rel=2e-3)
    assert spread.p50 == pytest.approx(1.25 * e, rel=2e-3)
    assert spread.p95 == pytest.approx(1.385 * e, rel=2e-3)
    assert spread.sensitivity[0][0] == "PUE" and spread.sensitivity[0][1] == pytest.approx(1.0, abs=1e-9)
    assert r.results["E_facility"].value[0] == pytest.approx(1.25 * e, rel=1e-12)  # the point value: the midpoint


def test_grid_intensity_drives_emissions_and_pue_drives_water(tree):
    u = scope3(run(UNCERTAIN, tree=tree, samples=20_000, seed=1)).uncertainty["results"]
    assert u["emissions"].sensitivity[0][0] == "grid_intensity"
    assert u["water"].sensitivity[0][0] == "PUE"
    assert u["embodied_emissions"].sensitivity[0][0] == "gpu_embodied"
    assert u["E"].sensitivity == [] and u["E"].p5 == u["E"].p95  # nothing uncertain reaches IT energy


def test_catalog_range_is_scaled_like_its_binding(tree):
    # gpu_embodied reads accelerator.embodied_kgco2e (scale 1): draws stay inside the catalog's 164..575.2
    r = scope3(run(CHATBOT, tree=tree, samples=5000, seed=2))
    assert "range (low 164, high 575.2)" in r.uncertainty["inputs"]["gpu_embodied"]["distribution"]
    spread = r.uncertainty["results"]["EmbEm"]
    # EmbEm is proportional to 8 GPUs x gpu_embodied + 1 server x 2500 kg; with gpu_embodied ~ U(164, 575.2):
    # p95 / p5 = (8 * (164 + .95 * 411.2) + 2500) / (8 * (164 + .05 * 411.2) + 2500) = 6937.12 / 3976.48 = 1.7445
    assert spread.p95 / spread.p5 == pytest.approx(6937.12 / 3976.48, rel=0.01)


def test_without_uncertain_inputs_samples_warn(tree):
    runs = run(REPO / "scenarios" / "local-7b-rtx4090.yaml", tree=tree, samples=100, seed=1)
    assert all(r.uncertainty is None for r in runs)
    assert any("no input is uncertain" in w for w in runs[0].warnings)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"low": 2, "high": 1}, "low 2 is greater than high 1"),
        ({"distribution": "normal", "mean": 1, "sigma": -0.1}, "sigma -0.1 is negative"),
        ({"distribution": "lognormal", "median": 0, "sigma": 0.1}, "median 0 is not positive"),
        ({"distribution": "triangular", "low": 1, "mode": 3, "high": 2}, "mode 3 is outside [1, 2]"),
        ({"distribution": "normal", "mean": 1}, "a normal distribution needs 'sigma'"),
        ({"distribution": "normal", "mean": 1, "sigma": 1, "low": 0}, "'low' is not a parameter of a normal"),
        ({"low": 1, "high": 2, "value": 3}, "value 3 is outside [1, 2]"),
    ],
)
def test_invalid_parameters_are_refused(raw, message):
    with pytest.raises(ImpactError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(raw, here)


def test_a_sample_outside_an_inputs_range_is_reported_at_the_distribution(tree):
    with pytest.raises(ImpactError, match="PUE = .* is less than the minimum of 1"):
        run(
            CHATBOT,
            tree=tree,
            set={"PUE": {"distribution": "normal", "mean": 1.05, "sigma": 0.2}},
            samples=1000,
            seed=1,
        )


def test_spearman_of_a_monotone_and_of_an_independent_input():
    rng = np.random.default_rng(0)
    x, noise = rng.uniform(size=10_000), rng.uniform(size=10_000)
    out = summarise({"y": np.exp(x)}, {"x": x, "noise": noise})["y"]
    assert out.sensitivity[0] == ("x", pytest.approx(1.0, abs=1e-9))
    assert abs(out.sensitivity[1][1]) < 0.05


def test_samples_that_would_not_fit_in_memory_are_refused_with_their_size(tree, monkeypatch):
    from impact.engine import sweep

    monkeypatch.setattr(sweep, "available_memory", lambda: 1_000_000_000)
    with pytest.raises(ImpactError) as caught:
        run(UNCERTAIN, tree=tree, methodologies=["scope3"], samples=100_000_000, seed=1)
    text = caught.value.render()
    assert text.startswith("--samples: --samples of 100,000,000 points would need about")
    assert "(1 GB available); expected at most about" in text
