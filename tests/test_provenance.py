"""Every JSON output carries a stamp tracing its numbers to the exact files of the methodology tree."""

from __future__ import annotations

import hashlib
import json

from conftest import REPO
from impact.cli import main


def stamp(runner, *args):
    result = runner.invoke(main, ["run", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return {r["methodology"]: r["provenance"] for r in json.loads(result.stdout)["runs"]}


def test_the_stamp_names_the_methodology_and_hashes_its_files(runner):
    found = stamp(runner, str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml"))["scope3"]
    assert found["methodology"] == "scope3" and found["version"] == "1.0.0"
    files = found["files"]
    assert {"formulas/scope3.yaml", "catalogs/calibrations.yaml", "catalogs/accelerators.yaml"} <= set(files)
    for name, digest in files.items():
        assert digest == "sha256:" + hashlib.sha256((REPO / name).read_bytes()).hexdigest()
    combined = "".join(f"{n}:{d.removeprefix('sha256:')}\n" for n, d in files.items())
    assert found["hash"] == "sha256:" + hashlib.sha256(combined.encode()).hexdigest()


def test_optimizations_and_price_tables_are_stamped(runner):
    found = stamp(runner, str(REPO / "scenarios" / "api-closed-model.yaml"), "--optimization", "batching")["scope3"]
    assert "formulas/optimizations/batching.yaml" in found["files"]
    assert "catalogs/benchmarks/api-prices.yaml" in found["files"]
    assert found["version"] == "1.0.0+batching.1.0.0"


def test_a_changed_catalog_value_changes_the_hash(runner, tree_copy):
    scenario = str(tree_copy / "scenarios" / "chatbot-llama70b-h100.yaml")
    before = stamp(runner, scenario, "--root", str(tree_copy))["scope3"]
    assert stamp(runner, scenario, "--root", str(tree_copy))["scope3"] == before  # same tree, same stamp
    path = tree_copy / "catalogs" / "regions.yaml"
    path.write_text(path.read_text().replace("grid_gco2e_per_kwh: 379.07", "grid_gco2e_per_kwh: 379.08", 1))
    after = stamp(runner, scenario, "--root", str(tree_copy))["scope3"]
    assert after["hash"] != before["hash"]
    assert after["files"]["catalogs/regions.yaml"] != before["files"]["catalogs/regions.yaml"]
    assert after["files"]["formulas/scope3.yaml"] == before["files"]["formulas/scope3.yaml"]
