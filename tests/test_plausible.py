"""Catalog values the schema allows but that are slips: flagged by impact check, warned about by impact run;
the ranges live in the schemas (`plausible`), so a new field brings its own rule."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine import open_tree, run
from impact.engine.plausible import catalog_problems

SCENARIO = "scenarios/chatbot-llama70b-h100.yaml"


def edit(path, entry, old, new) -> int:
    """Replace the first `old` after the line `  entry:`; the line number of the replacement."""
    text = path.read_text()
    start = text.index(f"\n  {entry}:\n")
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :])
    return text[:at].count("\n") + 1


def test_the_shipped_catalogs_are_plausible(tree):
    assert catalog_problems(tree.schemas, tree.catalogs()) == []


def test_every_numeric_field_with_a_unit_of_the_main_catalogs_has_a_range():
    for catalog in ("accelerators", "servers", "models", "regions"):
        props = json.loads((REPO / "schemas" / f"catalog-{catalog}.v1.json").read_text())["$defs"]["entry"]
        for name, spec in props["properties"].items():
            if spec.get("unit") and not spec.get("informational"):
                assert "plausible" in spec, f"{catalog}.{name}"


def slips(tree_copy) -> tuple[int, int]:
    """A TDP typed in kW, an embodied range below zero, active above total parameters (MoE fields swapped);
    the lines of the TDP and of total_params_b."""
    accelerators, models = tree_copy / "catalogs" / "accelerators.yaml", tree_copy / "catalogs" / "models.yaml"
    tdp = edit(accelerators, "h100-sxm", "    tdp_w: 700\n    embodied_kgco2e: {low: 164,",
               "    tdp_w: 1.4\n    embodied_kgco2e: {low: -164,")  # fmt: skip
    total = edit(models, "llama-3.1-70b", "    total_params_b: 70.55\n    active_params_b: 70.55\n",
                 "    total_params_b: 22\n    active_params_b: 235\n")  # fmt: skip
    return tdp, total


def test_check_reports_each_slip_at_its_line(runner, tree_copy):
    tdp, total = slips(tree_copy)
    result = runner.invoke(main, ["check", "--root", str(tree_copy), "--format", "json"])
    assert result.exit_code == 1
    found = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "plausible"]
    shown = {(f["file"], f["line"], f["message"]) for f in found}
    assert shown == {
        ("catalogs/accelerators.yaml", tdp, "accelerator 'h100-sxm' tdp_w = 1.4 W is below the plausible minimum 10 W"),
        ("catalogs/accelerators.yaml", tdp + 1,
         "accelerator 'h100-sxm' embodied_kgco2e.low = -164 kgCO2e is below the plausible minimum 0 kgCO2e"),
        ("catalogs/models.yaml", total + 1,
         f"model 'llama-3.1-70b' active_params_b = 235 Gparameter is above its total_params_b = 22 (line {total})"),
    }  # fmt: skip
    tdp = next(f for f in found if "tdp_w" in f["message"])
    assert tdp["hint"] == "1400 W (x 1000) would be plausible: a unit slip?"
    assert tdp["expected"] == "a value from 10 to 10000 W (plausible: in schemas/catalog-accelerators.v1.json)"


def test_run_warns_about_the_entries_it_uses(tree_copy):
    slips(tree_copy)
    runs = {r.methodology: r for r in run(SCENARIO, root=tree_copy)}
    implausible = [w for w in runs["scope3"].warnings if w.startswith("implausible:")]
    assert len(implausible) == 3
    assert implausible[0].startswith("implausible: model 'llama-3.1-70b' active_params_b = 235 Gparameter is above")
    # memory reads the model's parameter counts but no TDP: only the model's problem is its business
    assert [w for w in runs["memory"].warnings if w.startswith("implausible:")] == implausible[:1]


def test_a_run_on_other_entries_is_not_warned(tree_copy):
    slips(tree_copy)
    scenario = {"kind": "scenario", "schema_version": 1, "model": "llama-3.1-8b", "hardware": "a100-sxm-80gb",
                "location": "fr", "request": {"input_tokens": 10, "output_tokens": 10}}  # fmt: skip
    assert not [w for r in run(scenario, root=tree_copy) for w in r.warnings if w.startswith("implausible")]


def test_a_new_field_brings_its_own_rule_without_code(tree_copy):
    """A `plausible` annotation on any field is enforced, here a maximum on the accelerators' idle power."""
    schema = tree_copy / "schemas" / "catalog-accelerators.v1.json"
    data = json.loads(schema.read_text())
    data["$defs"]["entry"]["properties"]["idle_w"]["plausible"] = {"min": 0, "max": 10}
    schema.write_text(json.dumps(data, indent=2))
    tree = open_tree(tree_copy)
    found = [p.message for p in catalog_problems(tree.schemas, tree.catalogs())]
    assert found and all("idle_w" in m and "above the plausible maximum 10 W" in m for m in found)


@pytest.mark.parametrize("value", ["{low: 0.5, high: 2}", "{distribution: normal, mean: 0.9, sigma: 0.1}"])
def test_ranges_and_distributions_are_checked_by_their_parameters(tree_copy, value):
    edit(tree_copy / "catalogs" / "regions.yaml", "aws-us-east-1", "pue: 1.15", f"pue: {value}")
    tree = open_tree(tree_copy)
    found = [p.message for p in catalog_problems(tree.schemas, tree.catalogs())]
    assert len(found) == 1 and "pue" in found[0] and "below the plausible minimum 1" in found[0]
