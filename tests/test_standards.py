"""The standards' shapes: GHG Protocol lines, SCI and ESRS E1 CSV, against goldens and by hand from the JSON.

Goldens live in tests/golden/standards/<scenario>.<format>.<md|csv> (scope3 only, so that another
methodology's change does not move them); `pytest tests/test_standards.py --update-golden` rewrites them.
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from conftest import REPO, add_to_entry
from impact.cli import main
from impact.engine.render.layout import figure

GOLDEN = REPO / "tests" / "golden" / "standards"
SCENARIOS = ["chatbot-llama70b-h100", "api-closed-model", "local-7b-rtx4090"]
SHAPES = {"ghg": ("md", []), "sci": ("md", ["--per", "1k-tokens"]), "esrs": ("csv", [])}


def invoke(runner, scenario, *args):
    result = runner.invoke(main, ["run", str(REPO / "scenarios" / f"{scenario}.yaml"), "--methodology", "scope3",
                                  *args])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result.stdout


def same_csv(expected: str, actual: str) -> bool:
    """Equal CSV text, numbers within 1e-9 relative (a reordering of float operations is not a change)."""
    rows_e, rows_a = list(csv.reader(io.StringIO(expected))), list(csv.reader(io.StringIO(actual)))
    if len(rows_e) != len(rows_a):
        return False
    for row_e, row_a in zip(rows_e, rows_a, strict=True):
        for e, a in zip(row_e, row_a, strict=True):
            try:
                if not math.isclose(float(e), float(a), rel_tol=1e-9):
                    return False
            except ValueError:
                if e != a:
                    return False
    return True


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_shape_matches_its_golden(runner, scenario, shape, update_golden):
    ext, args = SHAPES[shape]
    actual = invoke(runner, scenario, "--format", shape, *args)
    golden = GOLDEN / f"{scenario}.{shape}.{ext}"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden {golden.name}: run pytest --update-golden and review it"
    expected = golden.read_text()
    assert same_csv(expected, actual) if ext == "csv" else expected == actual


def results(runner, scenario):
    (run,) = json.loads(invoke(runner, scenario, "--format", "json"))["runs"]
    return {name: r["value"] for name, r in run["results"].items()}, run


def test_ghg_own_hardware_puts_electricity_in_scope_2_and_hardware_in_category_2(runner):
    r, run = results(runner, "chatbot-llama70b-h100")
    text = invoke(runner, "chatbot-llama70b-h100", "--format", "ghg")
    scope2 = "| Scope 2 | purchased electricity | location-based (grid average) |"
    assert f"{scope2} {figure(r['operational_emissions'])} |" in text
    # aws-us-east-1 publishes no residual mix: market-based falls back to the grid average, said in the basis
    market = "| market-based (grid average of aws-us-east-1: no contractual factor or residual mix) |"
    assert f"{market} {figure(r['operational_emissions_market'])} |" in text
    assert r["operational_emissions_market"] == pytest.approx(r["operational_emissions"], rel=1e-12)
    cat2 = "| Scope 3 | category 2: capital goods | hardware manufacture, amortised share |"
    assert f"{cat2} {figure(r['embodied_emissions'])} |" in text
    # 1,000,000 requests: total kgCO2e = gCO2e per request x 1e6 / 1000
    assert f"{figure(r['emissions'] * 1e6 / 1000)} kgCO2e" in text and "### Boundary" in text


def test_ghg_api_use_is_scope_3_category_1_only(runner):
    text = invoke(runner, "api-closed-model", "--format", "ghg")
    rows = [line for line in text.splitlines() if line.startswith("| Scope")]
    assert rows and all(line.startswith("| Scope 3 | category 1: purchased goods and services") for line in rows)


def tokens(run) -> float:
    return run["inputs"]["n_in"]["value"] + run["inputs"]["n_out"]["value"]


@pytest.mark.parametrize(("per", "units"), [("request", lambda run: 1.0), ("token", tokens),
                                            ("1k-tokens", lambda run: tokens(run) / 1000)])  # fmt: skip
def test_sci_is_operational_plus_embodied_over_the_functional_unit(runner, per, units):
    r, run = results(runner, "chatbot-llama70b-h100")
    text = invoke(runner, "chatbot-llama70b-h100", "--format", "sci", "--per", per)
    # SCI = (E x I + M) / R; E x I is operational_emissions (E_facility x grid intensity), M the embodied share
    score = (r["operational_emissions"] + r["embodied_emissions"]) / units(run)
    assert f"SCI = {figure(score)} gCO2e per " in text


def test_sci_per_session_needs_its_size(runner):
    result = runner.invoke(main, ["run", "--format", "sci", "--per", "session", "--methodology", "scope3"])
    assert result.exit_code == 1
    assert result.stderr == ("--per session: a session needs its number of requests; expected --session-requests N "
                             "(requests in one session)\n")  # fmt: skip
    r, _ = results(runner, "chatbot-llama70b-h100")
    text = invoke(runner, "chatbot-llama70b-h100", "--format", "sci", "--per", "session", "--session-requests", "4")
    assert f"SCI = {figure(4 * (r['operational_emissions'] + r['embodied_emissions']))} gCO2e per session" in text


def test_esrs_reports_mwh_and_tonnes_over_the_requests(runner):
    r, run = results(runner, "chatbot-llama70b-h100")
    (row,) = csv.DictReader(io.StringIO(invoke(runner, "chatbot-llama70b-h100", "--format", "esrs")))
    n = run["scenario"]["requests"]
    # Wh x requests / 1e6 = MWh; gCO2e x requests / 1e6 = tCO2e
    assert float(row["energy_consumption_mwh"]) == pytest.approx(r["E_facility"] * n / 1e6)
    assert float(row["scope2_location_tco2e"]) == pytest.approx(r["operational_emissions"] * n / 1e6)
    assert float(row["scope2_market_tco2e"]) == pytest.approx(r["operational_emissions_market"] * n / 1e6)
    assert float(row["total_market_tco2e"]) == pytest.approx(r["emissions_market"] * n / 1e6)
    assert "market-based: grid average of aws-us-east-1" in row["notes"]
    assert float(row["scope3_cat2_tco2e"]) == pytest.approx(r["embodied_emissions"] * n / 1e6)
    assert float(row["total_location_tco2e"]) == pytest.approx(r["emissions"] * n / 1e6)


def test_a_sweep_is_not_an_inventory(runner):
    result = runner.invoke(main, ["run", str(REPO / "scenarios" / "sweep-output-length.yaml"), "--format", "ghg"])
    assert result.exit_code == 1
    assert result.stderr == ("--format ghg: a sweep has a value per point, not one inventory; expected a scenario "
                             "without a sweep: block (the point to report)\n")  # fmt: skip


def test_ghg_and_esrs_show_a_contractual_factor(runner):
    # 0.203018 Wh per request at 50 gCO2e/kWh: 0.203018 x 50 / 1000 = 0.0101509 gCO2e per request
    r, run = results(runner, "chatbot-llama70b-h100")
    e_facility = r["E_facility"]
    text = invoke(runner, "chatbot-llama70b-h100", "--format", "ghg", "--set", "market_gco2e_per_kwh=50")
    market = e_facility * 50 / 1000
    assert market == pytest.approx(0.0101509, rel=1e-5)
    assert f"| market-based (contractual factor given) | {figure(market)} |" in text
    total = market + r["embodied_emissions"] + r["training_emissions"]
    assert f"Total, market-based: {figure(total)} gCO2e per request" in text
    (row,) = csv.DictReader(io.StringIO(invoke(runner, "chatbot-llama70b-h100", "--format", "esrs", "--set",
                                               "market_gco2e_per_kwh=0.05 kgCO2e/kWh")))  # fmt: skip
    n = run["scenario"]["requests"]  # 1e6 requests x 0.0101509 g / 1e6 = 0.0101509 tCO2e
    assert float(row["scope2_market_tco2e"]) == pytest.approx(market * n / 1e6)
    assert float(row["total_market_tco2e"]) == pytest.approx(total * n / 1e6)
    assert "market-based: contractual factor given" in row["notes"]


def test_a_region_residual_mix_is_the_market_default(runner, tree_copy):
    # a region entry with a residual mix (a test value, not a published one): it becomes the market factor
    regions = tree_copy / "catalogs" / "regions.yaml"
    add_to_entry(
        regions,
        "aws-us-east-1",
        {"residual_mix_gco2e_per_kwh": "500", "residual_mix_year": "2023"},
        {"residual_mix_gco2e_per_kwh": "'test: not a published figure'"},
    )
    result = runner.invoke(main, ["run", "scenarios/chatbot-llama70b-h100.yaml", "--methodology", "scope3",
                                  "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (run,) = json.loads(result.stdout)["runs"]
    r = {name: v["value"] for name, v in run["results"].items()}
    assert run["inputs"]["market_gco2e_per_kwh"]["value"] == 500
    assert "aws-us-east-1.residual_mix_gco2e_per_kwh; test: not a published figure" in run["inputs"][
        "market_gco2e_per_kwh"]["source"]  # fmt: skip
    assert not any(w.startswith("market_gco2e_per_kwh") for w in run["warnings"])
    # E_facility x 500 / 1000
    assert r["operational_emissions_market"] == pytest.approx(r["E_facility"] * 500 / 1000, rel=1e-12)
    ghg = runner.invoke(main, ["run", "scenarios/chatbot-llama70b-h100.yaml", "--methodology", "scope3",
                               "--format", "ghg"]).stdout  # fmt: skip
    assert f"| market-based (residual mix of aws-us-east-1) | {figure(r['operational_emissions_market'])} |" in ghg
