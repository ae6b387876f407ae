"""Properties that hold for any request, checked with Hypothesis over models, hardware and token counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from impact.engine import open_tree, run

TREE = open_tree(REPO)  # one tree for every example: loading it per example would dominate the run

MODELS = ["llama-2-7b", "llama-3.1-70b", "mixtral-8x7b", "qwen2.5-14b", "falcon-40b", "deepseek-v3"]
HARDWARE = [
    {"accelerator": "h100-sxm", "gpus": 8},
    {"accelerator": "a100-sxm-80gb", "gpus": 4},
    {"accelerator": "l40s", "gpus": 2},
    {"server": "lumi-g-node"},
    {"accelerator": "mi300x", "gpus": 1},
]
LOCATIONS = ["fr", "us", "pl", "aws-us-east-1", "gcp-europe-west9"]
tokens = st.integers(min_value=0, max_value=200_000)


def scope3(model, hardware, location, n_in, n_out, **overrides):
    scenario = {
        "kind": "scenario",
        "schema_version": 1,
        "model": model,
        "hardware": hardware,
        "location": location,
        "methodology": "scope3",
        "request": {"input_tokens": n_in, "output_tokens": n_out},
    }
    (result,) = run(scenario, tree=TREE, set=overrides or None)
    return {name: float(r.value[0]) for name, r in result.results.items()}


common = dict(model=st.sampled_from(MODELS), hardware=st.sampled_from(HARDWARE), location=st.sampled_from(LOCATIONS))


@settings(max_examples=40, deadline=None)
@given(**common, n_in=tokens, n_out=tokens, more_in=tokens, more_out=tokens)
def test_energy_never_decreases_as_tokens_grow(model, hardware, location, n_in, n_out, more_in, more_out):
    base = scope3(model, hardware, location, n_in, n_out)
    grown = scope3(model, hardware, location, n_in + more_in, n_out + more_out)
    for name in ("E", "E_facility", "emissions", "water", "t_hat"):
        assert grown[name] >= base[name] * (1 - 1e-12)


@settings(max_examples=40, deadline=None)
@given(**common, n_in=tokens, n_out=tokens, grid=st.floats(min_value=0, max_value=1500))
def test_emissions_are_linear_in_grid_intensity(model, hardware, location, n_in, n_out, grid):
    at = {g: scope3(model, hardware, location, n_in, n_out, grid_intensity=g)["emissions"] for g in (0, grid, 2 * grid)}
    slope = scope3(model, hardware, location, n_in, n_out)["E_facility"] / 1000  # g per (g/kWh)
    assert at[grid] == pytest.approx(at[0] + slope * grid, rel=1e-9, abs=1e-15)
    assert at[2 * grid] - at[grid] == pytest.approx(at[grid] - at[0], rel=1e-6, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(**common)
def test_zero_tokens_give_zero_usage(model, hardware, location):
    r = scope3(model, hardware, location, 0, 0)
    for name in ("t_hat", "E", "E_facility", "operational_emissions", "embodied_emissions", "operational_water"):
        assert r[name] == 0
    assert r["emissions"] == r["training_emissions"]  # only the amortised training share remains


@settings(max_examples=30, deadline=None)
@given(**common, n_in=tokens, n_out=tokens)
def test_zero_water_intensity_gives_zero_operational_water(model, hardware, location, n_in, n_out):
    r = scope3(model, hardware, location, n_in, n_out, WUE_onsite=0, WUE_electricity=0)
    assert r["operational_water"] == 0
    assert r["water"] == pytest.approx(r["embodied_h2o"] + r["training_h2o"])


@settings(max_examples=20, deadline=None)
@given(**common, n_in=tokens, n_out=tokens, factor=st.floats(min_value=1.01, max_value=10))
def test_faster_accelerators_never_take_longer(model, hardware, location, n_in, n_out, factor):
    slow = scope3(model, hardware, location, n_in, n_out, A_f_gpu=1e14, A_bw_gpu=1e12)
    fast = scope3(model, hardware, location, n_in, n_out, A_f_gpu=1e14 * factor, A_bw_gpu=1e12 * factor)
    assert fast["t_hat"] <= slow["t_hat"]
