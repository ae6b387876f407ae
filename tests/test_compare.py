"""`impact compare`: methodologies side by side, with ratios to the first."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import REPO
from impact.cli import main

SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.stem != "lumi-34b-mi250x"], ids=lambda p: p.stem)
def test_every_shipped_scenario_compares_under_every_methodology(runner, scenario):
    result = runner.invoke(main, ["compare", str(scenario), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["methodologies"] == ["scope3", "serving", "llm_bench"]
    rows = {row["quantity"]: row for row in data["rows"]}
    assert set(rows) == {"duration", "energy", "energy_per_1k_output_tokens", "emissions", "water"}
    energy = rows["energy"]
    assert energy["ratios"]["llm_bench"] == pytest.approx(energy["values"]["llm_bench"] / energy["values"]["scope3"])
    assert energy["ratios"]["serving"] == pytest.approx(energy["values"]["serving"] / energy["values"]["scope3"])
    assert rows["emissions"]["values"]["llm_bench"] is None  # llm_bench defines no emissions: left empty
    assert rows["emissions"]["values"]["serving"] > 0


def test_a_model_that_does_not_fit_is_refused_by_serving(runner):
    # Poro 34B in BF16 (68.4 GB of weights) on one 64 GB MI250X GCD: memory says 2 GCDs, serving refuses
    result = runner.invoke(main, ["compare", str(REPO / "scenarios" / "lumi-34b-mi250x.yaml")])
    assert result.exit_code == 1
    assert result.stderr.startswith("scenarios/lumi-34b-mi250x.yaml:12:1: $.hardware: the model does not fit: 68.4 GB")


def test_values_are_the_runs_headline_results(runner):
    scenario = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
    runs = {r["methodology"]: r for r in json.loads(
        runner.invoke(main, ["run", scenario, "--format", "json", "--methodology", "scope3",
                             "--methodology", "llm_bench"]).stdout)["runs"]}  # fmt: skip
    data = json.loads(runner.invoke(main, ["compare", scenario, "--format", "json"]).stdout)
    rows = {row["quantity"]: row["values"] for row in data["rows"]}
    assert rows["duration"]["scope3"] == runs["scope3"]["results"]["t_hat"]["value"]
    assert rows["energy"]["scope3"] == runs["scope3"]["results"]["E"]["value"]
    assert rows["energy"]["llm_bench"] == runs["llm_bench"]["results"]["energy"]["value"]
    assert rows["energy_per_1k_output_tokens"]["llm_bench"] == pytest.approx(
        runs["llm_bench"]["results"]["energy"]["value"] / 500 * 1000)  # fmt: skip


def test_baseline_order_follows_the_options(runner):
    scenario = str(REPO / "scenarios" / "rag-long-context.yaml")
    args = ["compare", scenario, "--methodology", "llm_bench", "--methodology", "scope3", "--format", "csv"]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, args).stdout)))
    energy = {r["methodology"]: r for r in rows if r["quantity"] == "energy"}
    assert float(energy["llm_bench"]["ratio_to_llm_bench"]) == 1
    ratio = float(energy["scope3"]["value"]) / float(energy["llm_bench"]["value"])
    assert float(energy["scope3"]["ratio_to_llm_bench"]) == pytest.approx(ratio)


def test_table_and_markdown(runner):
    table = runner.invoke(main, ["compare"])
    assert table.exit_code == 0 and "/ scope3" in table.stdout  # the ratio header, on two lines
    markdown = runner.invoke(main, ["compare", "--format", "markdown"])
    assert ("| quantity | unit | scope3 | serving | llm_bench | serving / scope3 | llm_bench / scope3 |"
            in markdown.stdout)  # fmt: skip


def test_a_methodology_without_energy_cannot_be_compared(runner, tree_copy):
    result = runner.invoke(main, ["compare", "--methodology", "scope3", "--methodology", "memory",
                                  "--root", str(tree_copy)])  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == (
        "formulas/memory.yaml:8:14: $.methodology: methodology 'memory' defines no headline energy, which impact "
        "compare needs; expected a headline: mapping in formulas/memory.yaml with energy: <formula>\n"
    )


def test_unknown_methodology_is_suggested(runner):
    result = runner.invoke(main, ["compare", "--methodology", "scope", "--methodology", "llm_bench"])
    assert result.exit_code == 1
    assert result.stderr == ("--methodology scope: unknown methodology 'scope'; expected one of llm_bench, memory, "
                             "scope3, serving\n  hint: did you mean 'scope3'?\n")  # fmt: skip


SWEEP = str(REPO / "scenarios" / "sweep-output-length.yaml")
CHATBOT = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")


def test_a_sweep_gives_one_row_per_point(runner):
    """It used to print point 1 and say nothing of the other five."""
    both = ["--methodology", "scope3", "--methodology", "llm_bench"]
    data = json.loads(runner.invoke(main, ["compare", SWEEP, *both, "--format", "json"]).stdout)
    args = ["run", SWEEP, *both, "--format", "json"]
    run = json.loads(runner.invoke(main, args).stdout)["runs"]
    energy = {r["methodology"]: r["results"]["E" if r["methodology"] == "scope3" else "energy"]["value"] for r in run}
    rows = [r for r in data["rows"] if r["quantity"] == "energy"]
    assert len(rows) == 6 and data["points"]["count"] == 6
    assert [r["values"]["scope3"] for r in rows] == energy["scope3"]  # every point, in the sweep's order
    assert [r["values"]["llm_bench"] for r in rows] == energy["llm_bench"]
    assert [r["point"] for r in rows][:2] == [{"output_tokens": 100.0, "hardware": "h100-sxm"},
                                              {"output_tokens": 100.0, "hardware": "a100-sxm-80gb"}]  # fmt: skip
    per_1k = [r for r in data["rows"] if r["quantity"] == "energy_per_1k_output_tokens"]
    assert per_1k[4]["values"]["scope3"] == pytest.approx(energy["scope3"][4] / 10000 * 1000)  # 10k tokens out
    table = runner.invoke(main, ["compare", SWEEP, *both]).stdout
    assert "output_tokens, hardware" in table and "10000, a100-sxm-80gb" in table
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, ["compare", SWEEP, *both, "--format", "csv"]).stdout)))
    assert len(rows) == 5 * 6 * 2  # quantities x points x methodologies (llm_bench has no emissions: empty)
    assert [r["value"] for r in rows if r["methodology"] == "llm_bench" and r["quantity"] == "water"] == [""] * 6
    assert rows[0]["output_tokens"] == "100.0" and rows[0]["hardware"] == "h100-sxm"


def test_with_and_without_an_optimization_is_one_command(runner):
    args = ["compare", CHATBOT, "--methodology", "scope3", "--methodology", "scope3+speculative-decoding"]
    data = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    assert data["methodologies"] == ["scope3", "scope3+speculative-decoding"]
    fast = json.loads(runner.invoke(main, ["run", CHATBOT, "--methodology", "scope3", "--optimization",
                                           "speculative-decoding", "--format", "json"]).stdout)["runs"][0]  # fmt: skip
    energy = next(r for r in data["rows"] if r["quantity"] == "energy")
    assert energy["values"]["scope3+speculative-decoding"] == fast["results"]["E"]["value"]
    assert energy["ratios"]["scope3+speculative-decoding"] == pytest.approx(
        fast["results"]["E"]["value"] / energy["values"]["scope3"])  # fmt: skip
    table = runner.invoke(main, args).stdout
    assert "scope3+speculative-decoding / scope3" in table  # the ratio column is not cropped


def test_an_optimization_shows_in_the_column_name(runner):
    args = ["compare", CHATBOT, "--methodology", "scope3", "--methodology", "llm_bench", "--optimization", "batching"]
    data = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    assert data["methodologies"] == ["scope3+batching", "llm_bench"]  # batching covers scope3 only


@pytest.mark.parametrize("args, message", [
    (["--methodology", "llm_bench+batching"], "--methodology llm_bench+batching: optimization 'batching' does not "
     "apply to 'llm_bench'; expected an optimization for llm_bench (impact methodologies)"),
    (["--methodology", "scope3+batchin"], "--methodology scope3+batchin: unknown optimization 'batchin'; expected one "
     "of batching, kv-cache-fp8, speculative-decoding\n  hint: did you mean 'batching'?"),
    (["--methodology", "scope3", "--methodology", "scope3"], "--methodology scope3: the column 'scope3' is compared "
     "twice; expected each methodology and optimizations once"),
    (["--methodology", "scope3", "--optimization", "kv-cache-fp8"], "--optimization kv-cache-fp8: optimization "
     "'kv-cache-fp8' applies to none of the columns compared (scope3); expected a methodology among memory"),
])  # fmt: skip
def test_columns_that_cannot_be_compared_are_one_line(runner, args, message):
    result = runner.invoke(main, ["compare", CHATBOT, *args])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == message + "\n"
