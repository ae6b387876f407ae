"""Market-based emissions: `emissions` stays location-based; `emissions_market` charges the facility energy at
market_gco2e_per_kwh, the contractual factor (a scenario key, set:, --set, a sweep, a log column), else the
region's residual mix, else the grid average with a warning. Values are recomputed by hand."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.batch import run_batch

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
SCENARIO = """kind: scenario
schema_version: 1
model: llama-3.1-70b
hardware: {accelerator: h100-sxm, gpus: 4}
location: fr
request: {input_tokens: 1000, output_tokens: 500}
methodology: [scope3, serving]
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Work in tmp_path, so that files are named as written (s.yaml) in messages and sources."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_json(runner, path, *args) -> dict:
    result = runner.invoke(main, ["run", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.stderr
    return {run["methodology"]: run for run in json.loads(result.stdout)["runs"]}


def values(run) -> dict:
    return {name: r["value"] for name, r in run["results"].items()}


def test_a_scenario_factor_gives_market_based_emissions_beside_location_based(runner, here):
    path = here / "s.yaml"
    path.write_text(SCENARIO + 'market_gco2e_per_kwh: "0.1 kgCO2e/kWh"\n')
    runs = run_json(runner, path)
    for name in ("scope3", "serving"):  # serving extends scope3: it has the same terms, with its own energy
        run = runs[name]
        r = values(run)
        assert run["inputs"]["market_gco2e_per_kwh"] == {"value": 100.0, "unit": "gCO2e/kWh",
                                                         "source": "s.yaml:8: market_gco2e_per_kwh"}  # fmt: skip
        # operational: E_facility (Wh) x 100 gCO2e/kWh / 1000 Wh/kWh; the rest as the location-based total
        assert r["operational_emissions_market"] == pytest.approx(r["E_facility"] * 100 / 1000, rel=1e-12)
        assert r["emissions_market"] == pytest.approx(
            r["operational_emissions_market"] + r["embodied_emissions"] + r["training_emissions"], rel=1e-12
        )
        # location-based is unchanged: fr's grid average
        grid = run["inputs"]["grid_intensity"]["value"]
        assert r["operational_emissions"] == pytest.approx(r["E_facility"] * grid / 1000, rel=1e-12)
        assert not any(w.startswith("market_gco2e_per_kwh") for w in run["warnings"])


def test_without_a_factor_or_residual_mix_market_is_the_grid_average_with_a_warning(runner, here):
    path = here / "s.yaml"
    path.write_text(SCENARIO)
    run = run_json(runner, path)["scope3"]
    r = values(run)
    assert r["emissions_market"] == pytest.approx(r["emissions"], rel=1e-12)
    grid = run["inputs"]["grid_intensity"]["value"]
    assert (f"market_gco2e_per_kwh: region 'fr' has no residual_mix_gco2e_per_kwh; used region.grid_gco2e_per_kwh "
            f"= {grid:g} gCO2e/kWh") in run["warnings"]  # fmt: skip


def test_set_and_the_command_line_give_the_factor(runner, here):
    path = here / "s.yaml"
    path.write_text(SCENARIO + "set: {market_gco2e_per_kwh: 20}\n")
    r = values(run_json(runner, path)["scope3"])
    assert r["operational_emissions_market"] == pytest.approx(r["E_facility"] * 20 / 1000, rel=1e-12)
    r = values(run_json(runner, path, "--set", "market_gco2e_per_kwh=0")["scope3"])  # --set wins over set:
    assert r["operational_emissions_market"] == 0
    assert r["emissions_market"] == pytest.approx(r["embodied_emissions"] + r["training_emissions"], rel=1e-12)


def test_a_factor_given_twice_or_negative_is_located(runner, here):
    path = here / "s.yaml"
    path.write_text(SCENARIO + "set: {market_gco2e_per_kwh: 20}\nmarket_gco2e_per_kwh: 30\n")
    result = runner.invoke(main, ["run", "s.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("s.yaml:9:23: $.market_gco2e_per_kwh: market_gco2e_per_kwh is given here and in set: "
                             "(line 8); expected one of them\n")  # fmt: skip
    path.write_text(SCENARIO + 'market_gco2e_per_kwh: "-5 gCO2e/kWh"\n')
    result = runner.invoke(main, ["run", "s.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("s.yaml:8:23: $.market_gco2e_per_kwh: market_gco2e_per_kwh = -5 is less than the "
                             "minimum of 0; expected market_gco2e_per_kwh >= 0 gCO2e/kWh\n")  # fmt: skip
    path.write_text(SCENARIO + "market_gco2e_per_kwh: -5\n")
    result = runner.invoke(main, ["run", "s.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("s.yaml:8:23: $.market_gco2e_per_kwh: ")


def test_a_sweep_of_the_factor_moves_only_the_market_based_figures(runner, here):
    path = here / "s.yaml"
    sweep = "sweep:\n  grid:\n    market_gco2e_per_kwh: [0, 50, 400]\n"
    path.write_text(SCENARIO.replace("[scope3, serving]", "scope3") + sweep)
    run = run_json(runner, path)["scope3"]
    r = values(run)
    for i, factor in enumerate((0, 50, 400)):
        assert r["operational_emissions_market"][i] == pytest.approx(r["E_facility"][i] * factor / 1000, rel=1e-12)
        assert r["emissions"][i] == pytest.approx(r["emissions"][0], rel=1e-12)  # location-based does not move


def test_a_log_column_sets_each_requests_factor(tree, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("model,output_tokens,location,market_gco2e_per_kwh\nllama-3.1-8b,100,fr,0\n"
                   "llama-3.1-8b,100,fr,200\nllama-3.1-8b,100,fr,0.3 kgCO2e/kWh\n")  # fmt: skip
    batch = run_batch(log, BASE, tree, methodologies=["scope3"])
    sums = batch.totals.sums["scope3"]
    # three identical requests: each draws a third of E_facility; (0 + 200 + 300) gCO2e/kWh / 1000 x that third
    third = sums["E_facility"] / 3
    assert sums["operational_emissions_market"] == pytest.approx(third * (0 + 200 + 300) / 1000, rel=1e-12)
    assert sums["emissions_market"] == pytest.approx(
        sums["operational_emissions_market"] + sums["embodied_emissions"] + sums["training_emissions"], rel=1e-12
    )


def test_a_negative_factor_in_a_log_is_a_bad_row(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("model,output_tokens,market_gco2e_per_kwh\nllama-3.1-8b,100,-1\n")
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--methodology", "scope3"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("log.csv:2:18: $.market_gco2e_per_kwh: -1 is less than 0; expected a number in "
                             "gCO2e/kWh >= 0\n")  # fmt: skip


def test_a_fallback_to_an_uncertain_grid_intensity_shares_its_draws(tree_copy):
    from impact.engine import run

    regions = tree_copy / "catalogs" / "regions.yaml"
    text = regions.read_text()
    # fr's annual figure as a lognormal: grid_intensity and the market factor (its fallback) read that one field
    start = text.index("\n  fr:\n")
    line = text.index("    grid_gco2e_per_kwh:", start)
    end = text.index("\n", line)
    regions.write_text(text[:line] + "    grid_gco2e_per_kwh: {distribution: lognormal, median: 40, sigma: 0.3}"
                       + text[end:])  # fmt: skip
    scenario = {"kind": "scenario", "schema_version": 1, "model": "llama-3.1-8b", "location": "fr",
                "methodology": "scope3", "request": {"input_tokens": 100, "output_tokens": 100}}  # fmt: skip
    (result,) = run(scenario, root=tree_copy, samples=500, seed=3)
    spread = result.uncertainty["results"]
    assert {"grid_intensity", "market_gco2e_per_kwh"} <= set(result.uncertainty["inputs"])
    # the same draws: market-based equals location-based at every sample, so every percentile is equal
    for name in ("p5", "p50", "p95", "mean"):
        location, market = getattr(spread["emissions"], name), getattr(spread["emissions_market"], name)
        assert market == pytest.approx(location, rel=1e-12), name
    assert spread["emissions"].p95 > spread["emissions"].p5
