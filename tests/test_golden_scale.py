"""Golden outputs of the at-scale paths: an uncertainty run and a batch (the sweep scenario is a shipped
scenario, so tests/test_golden.py covers it). Same tolerance as the other goldens; after a deliberate change
run `pytest tests/test_golden_scale.py --update-golden` and review the diff of tests/golden/scale/."""

from __future__ import annotations

import json

import pytest
from test_golden import differences, results_only

from conftest import REPO
from impact.engine import report, run
from impact.engine.batch import run_batch, summary

GOLDEN = REPO / "tests" / "golden" / "scale"


def compare(name: str, actual: dict, update: bool) -> None:
    golden = GOLDEN / f"{name}.json"
    if update:
        golden.write_text(json.dumps(actual, indent=2) + "\n")
    assert golden.exists(), f"no golden output {golden.name}: run pytest --update-golden and review it"
    assert differences(json.loads(golden.read_text()), actual) == []


def test_uncertainty_run_matches_its_golden(tree, monkeypatch, update_golden):
    monkeypatch.chdir(REPO)
    runs = run("scenarios/uncertain-datacenter.yaml", tree=tree, samples=2000, seed=1)
    compare("uncertain-datacenter.samples-2000.seed-1", results_only(report.document(runs)), update_golden)


def test_batch_matches_its_golden(tree, monkeypatch, update_golden):
    monkeypatch.chdir(REPO)
    batch = run_batch("scenarios/logs/requests-sample.csv", "scenarios/chatbot-llama70b-h100.yaml", tree,
                      by=["model", "location"])  # fmt: skip
    compare("batch.requests-sample.by-model-location", summary(batch), update_golden)


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_batch_formats_render(runner, fmt, monkeypatch):
    from impact.cli import main

    monkeypatch.chdir(REPO)
    args = ["batch", "scenarios/logs/requests-sample.csv", "--scenario", "scenarios/chatbot-llama70b-h100.yaml"]
    result = runner.invoke(main, [*args, "--by", "model", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "llama-3.1-70b" in result.stdout
