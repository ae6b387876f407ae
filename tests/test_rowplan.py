"""engine.rowplan and engine.batcheval: a batch's chunk evaluated by levels (once per set of combinations, then
per row), and its largest methodology in a worker thread, give exactly what Points.evaluate gives row by row,
for every result of every methodology, and the same error."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from impact.engine import ImpactError, rowplan
from impact.engine.batch import run_batch

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"


def mixed_log(path, rows=3000):
    """Three models and four regions in random order, an override column, weights and cached tokens."""
    rng = np.random.default_rng(3)
    models, regions = ["llama-3.1-8b", "llama-3.1-70b", "mistral-7b"], ["us", "fr", "de", "se"]
    lines = ["model,location,input_tokens,output_tokens,cached_input_tokens,PUE,requests"]
    for _ in range(rows):
        n_in = int(rng.integers(10, 4000))
        lines.append(f"{models[rng.integers(3)]},{regions[rng.integers(4)]},{n_in},{rng.integers(1, 1000)},"
                     f"{rng.integers(0, n_in)},{rng.uniform(1.05, 1.6):.3f},{rng.integers(1, 4)}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def every_result(tree):
    return [f"{m.name}.{n}" for m in tree.methodologies().values() if m.name in ("memory", "scope3", "serving")
            for n in m.formulas]  # fmt: skip


def outputs(log, tree, tmp_path, name, **options):
    out = tmp_path / f"{name}.csv"
    batch = run_batch(log, BASE, tree, out=out, chunk_rows=1000, by=["model"], **options)
    return batch.totals, out.read_text()


def row_by_row(monkeypatch):
    def fallback(*args):
        raise rowplan._Fallback

    monkeypatch.setattr(rowplan, "_evaluate_rows", fallback)


def test_every_result_and_total_is_what_points_evaluate_gives(tree, tmp_path, monkeypatch):
    log = mixed_log(tmp_path / "log.csv")
    results = every_result(tree)
    totals, rows = outputs(log, tree, tmp_path, "levels", results=results)
    row_by_row(monkeypatch)
    expected_totals, expected_rows = outputs(log, tree, tmp_path, "rows", results=results)
    assert rows == expected_rows  # the same text, so the same numbers to 9 digits; and the totals exactly:
    assert totals.sums == expected_totals.sums and totals.groups == expected_totals.groups
    assert totals.requests == expected_totals.requests


def test_a_plan_is_kept_across_chunks(tree, tmp_path, monkeypatch):
    log = mixed_log(tmp_path / "log.csv")
    built = []
    plan = rowplan._plan
    monkeypatch.setattr(rowplan, "_plan", lambda *args: built.append(1) or plan(*args))
    run_batch(log, BASE, tree, chunk_rows=500)
    assert len(built) == 3  # one per methodology, for six chunks that each use all twelve combinations


def test_a_formula_that_is_not_finite_is_the_same_error(tree, tmp_path, monkeypatch):
    log = tmp_path / "log.csv"
    log.write_text("model,input_tokens,output_tokens,A_bw\nllama-3.1-8b,100,20,5\nllama-3.1-70b,100,20,1e-300\n")
    with pytest.raises(ImpactError) as levels:
        run_batch(log, BASE, tree)
    row_by_row(monkeypatch)
    with pytest.raises(ImpactError) as rows:
        run_batch(log, BASE, tree)
    assert "is infinite (row 2)" in str(levels.value)
    assert str(levels.value) == str(rows.value)
