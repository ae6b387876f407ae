"""`impact calibrate`: the fit reproduces the shipped coefficients; a team's own table works; bad tables
give located errors."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import REPO
from impact.cli import main

TABLE = """kind: benchmarks
schema_version: 1
benchmark: my-lab
description: Our own measurements.
source: lab notebook 2026-11
columns: [model, accelerator, precision, gpus, input_tokens, output_tokens, output_tokens_per_s]
rows:
"""


def test_reproduces_the_shipped_coefficients_from_the_shipped_data(runner):
    result = runner.invoke(main, ["calibrate", "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    fit = json.loads(result.stdout)
    shipped = yaml.safe_load((REPO / "catalogs/calibrations.yaml").read_text())["entries"]["default"]
    assert fit["beta_in"] == pytest.approx(shipped["beta_in"], rel=1e-12)
    assert fit["beta_out"] == pytest.approx(shipped["beta_out"], rel=1e-12)
    for precision, (b_in, b_out) in fit["per_precision"].items():
        assert b_in == pytest.approx(shipped["beta_in_by_precision"][precision], rel=1e-12)
        assert b_out == pytest.approx(shipped["beta_out_by_precision"][precision], rel=1e-12)
    assert fit["rows"] == shipped["rows"] and fit["data_hash"] == shipped["data_hash"]
    assert fit["cv_mape_by_model"] == pytest.approx(shipped["cv_mape_by_model"], rel=1e-12)
    assert fit["written"] is None
    assert fit["unusable_rows"] == len(fit["dropped"]) > 0  # listed with reasons, not silently dropped
    assert all("has no" in reason for reason in fit["dropped"].values())


def test_a_teams_own_measurements_calibrate_and_are_used(runner, tree_copy):
    # exact data made from known betas: y = 1.5 t_in + 0.25 t_out on one H100 for Llama 2 7B in FP16
    rows = []
    for n_in, n_out in ((128, 128), (2048, 128), (128, 2048), (1000, 1000), (4096, 512)):
        t_in = 2 * 6.74e9 * n_in / 989.5e12
        t_out = 2 * 6.74e9 * n_out / 3.35e12
        throughput = n_out / (1.5 * t_in + 0.25 * t_out)
        rows.append(f"  - [llama-2-7b, h100-sxm, fp16, 1, {n_in}, {n_out}, {throughput!r}]")
    (tree_copy / "mine.yaml").write_text(TABLE + "\n".join(rows) + "\n")
    out = tree_copy / "catalogs" / "my-calibration.yaml"
    result = runner.invoke(main, ["calibrate", "--data", "mine.yaml", "--out", str(out), "--id", "my-lab",
                                  "--root", str(tree_copy), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    fit = json.loads(result.stdout)
    assert fit["beta_in"] == pytest.approx(1.5, rel=1e-9) and fit["beta_out"] == pytest.approx(0.25, rel=1e-9)
    assert fit["mape"] == pytest.approx(0, abs=1e-9)
    scenario = {
        "kind": "scenario",
        "schema_version": 1,
        "model": "llama-2-7b",
        "hardware": "h100-sxm",
        "location": "fr",
        "calibration": "my-lab",
        "request": {"input_tokens": 100, "output_tokens": 10},
    }
    (tree_copy / "s.yaml").write_text(yaml.safe_dump(scenario))
    run = json.loads(runner.invoke(main, ["run", "s.yaml", "--root", str(tree_copy), "--methodology", "scope3",
                                          "--format", "json"]).stdout)["runs"][0]  # fmt: skip
    assert run["inputs"]["beta_out"]["value"] == pytest.approx(0.25, rel=1e-9)
    assert run["inputs"]["beta_out"]["source"].startswith("catalogs/my-calibration.yaml:")


@pytest.mark.parametrize("rows, columns, expected", [
    ("  - [llama-2-7b, h100-sxm, fp16, 1, 128, 128]\n", None,
     "mine.yaml:8:5: $.rows[0]: the row has 6 values for 7 columns; expected one value per column (model, "
     "accelerator, precision, gpus, input_tokens, output_tokens, output_tokens_per_s)\n"),
    ("  - [llama-2-7x, h100-sxm, fp16, 1, 128, 128, 100]\n", None,
     "mine.yaml:8:6: $.rows[0][0]: unknown model 'llama-2-7x'; expected an id from the models catalog (impact "
     "catalog list models)\n  hint: did you mean 'llama-2-7b', 'llama-2-70b', 'llama-7b'?\n"),
    ("  - [llama-2-7b, h100-sxm, fp16, 1, 128, 128, -5]\n", None,
     "mine.yaml:8:47: $.rows[0][6]: output_tokens_per_s is -5, not positive; expected a positive throughput\n"),
    ("  - [llama-2-7b, h100-sxm, fp16, 1, 128, 128, 100]\n", "[model, accelerator, precision, gpus, input_tokens]",
     "mine.yaml:6:1: $.columns: missing column 'output_tokens'; expected columns model, accelerator, precision, "
     "gpus, input_tokens, output_tokens, output_tokens_per_s\n"
     "mine.yaml:6:1: $.columns: missing column 'output_tokens_per_s'; expected columns model, accelerator, "
     "precision, gpus, input_tokens, output_tokens, output_tokens_per_s\n"),
    ("  - [llama-2-7b, h100-sxm, fp16, 1, 128, 128, 100]\n", None,
     "mine.yaml:7:1: $.rows: only 1 usable row(s); expected at least 3 rows whose model, accelerator and "
     "precision resolve\n"),
    ("".join(f"  - [llama-2-7b, h100-sxm, fp16, 1, 0, {n}, {n * 10}]\n" for n in (100, 200, 300)), None,
     "mine.yaml:7:1: $.rows: the fit is singular or ill-conditioned (condition number inf); expected rows that "
     "vary the input and output lengths independently\n"),
])  # fmt: skip
def test_bad_tables(runner, tree_copy, rows, columns, expected):
    text = TABLE + rows
    if columns:
        text = text.replace("[model, accelerator, precision, gpus, input_tokens, output_tokens, output_tokens_per_s]",
                            columns)  # fmt: skip
    (tree_copy / "mine.yaml").write_text(text)
    before = (tree_copy / "catalogs" / "calibrations.yaml").read_text()
    result = runner.invoke(main, ["calibrate", "--data", "mine.yaml", "--root", str(tree_copy), "--out",
                                  "catalogs/calibrations.yaml"])  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == expected
    assert (tree_copy / "catalogs" / "calibrations.yaml").read_text() == before  # nothing written
