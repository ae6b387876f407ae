"""`impact explain`: the derivation tree of a result, down to every input and its source."""

from __future__ import annotations

import json

from conftest import REPO
from impact.cli import main
from impact.engine import run

CHATBOT = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")


def tree_of(runner, *args):
    result = runner.invoke(main, ["explain", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def walk(node):
    yield node
    for child in node.get("reads", []):
        yield from walk(child)


def test_the_emissions_tree_names_every_catalog_line_it_used(runner):
    tree = tree_of(runner, CHATBOT, "emissions")["tree"]
    named = {n["source"].split("; ")[0] for n in walk(tree) if n["kind"] == "input"}
    (scope3,) = run(CHATBOT, methodologies=["scope3"])
    depends_on = scope3.method.plan(targets=["emissions"])[1]  # every input the emissions formulas read
    catalog_lines = {scope3.inputs[name].source.split("; ")[0] for name in depends_on
                     if scope3.inputs[name].source.startswith("catalogs/")}  # fmt: skip
    assert catalog_lines  # grid intensity, PUE, TDP, embodied, training, calibration ...
    assert catalog_lines <= named
    assert any(s.startswith("catalogs/regions.yaml:") and "grid_gco2e_per_kwh" in s for s in named)


def test_formula_nodes_show_the_values_substituted(runner):
    tree = tree_of(runner, CHATBOT, "t_in")["tree"]
    assert tree["expr"] == "2 * P_m * n_prefill / A_f"
    assert tree["substituted"] == "2 * 7.055e+10 * 1000 / 7.916e+15"
    assert tree["value"] == 2 * 70.55e9 * 1000 / (8 * 989.5e12)
    (a_f,) = [n for n in tree["reads"] if n["name"] == "A_f"]
    assert a_f["substituted"] == "8 * 9.895e+14"


def test_a_result_of_another_methodology(runner):
    found = tree_of(runner, CHATBOT, "gpus_needed")
    assert found["methodology"] == "memory"
    assert found["tree"]["substituted"] == "ceil(169.812 / 80)"  # function names stay, arguments are substituted
    assert found["provenance"]["methodology"] == "memory"


def test_the_text_tree(runner):
    result = runner.invoke(main, ["explain", CHATBOT, "E"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert result.stdout.startswith("E = t_hat * P_server / s_per_h = 0.0934612 * 6800 / 3600 = 0.176538 Wh")
    assert "(derived above)" in result.stdout


def test_an_unknown_result_is_suggested(runner):
    result = runner.invoke(main, ["explain", CHATBOT, "emisions"])
    assert result.exit_code == 1
    hint = "  hint: did you mean 'emissions', 'emissions_market', 'training_emissions'?\n"
    assert (
        result.stderr
        == f"{CHATBOT} emisions: unknown result 'emisions'; expected a result of memory, scope3, serving\n" + hint
    )


def test_run_json_carries_the_derivations_behind_a_flag(runner):
    plain = json.loads(runner.invoke(main, ["run", CHATBOT, "--format", "json"]).stdout)["runs"]
    assert all("explain" not in r for r in plain)
    runs = json.loads(runner.invoke(main, ["run", CHATBOT, "--format", "json", "--explain"]).stdout)["runs"]
    scope3 = {r["methodology"]: r for r in runs}["scope3"]
    expected = {"expr": "t_hat * P_server / s_per_h", "substituted": "0.0934612 * 6800 / 3600",
                "reads": ["t_hat", "P_server", "s_per_h"]}  # fmt: skip
    assert scope3["explain"]["E"] == expected
