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
