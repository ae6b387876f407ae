"""Token classes: cached input tokens (served from a prefix cache) and reasoning tokens, in scenarios, --set,
sweeps and logs, moving each methodology's results as its formulas say; checked by hand."""

from __future__ import annotations

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine import ImpactError, run
from impact.engine.batch import run_batch

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
# llama-3.1-8b: 8.03e9 active parameters, 32 layers, 32 query heads of 128; one H100 SXM: 989.5 TFLOP/s at
# fp16, 3.35 TB/s; the scope3 precision factor b = 2 (fp16)
P, LAYERS, HEADS, D_HEAD = 8.03e9, 32, 32, 128
FLOPS, BW, N_GPU = 989.5e12, 3.35e12, 8


def scenario(**request):
    return {"kind": "scenario", "schema_version": 1, "model": "llama-3.1-8b", "location": "fr",
            "hardware": {"server": "dgx-h100", "gpus": N_GPU},
            "request": {"input_tokens": 1000, "output_tokens": 200, **request}}  # fmt: skip


def results(doc, methodology, **options):
    (r,) = run(doc, methodologies=[methodology], **options)
    return {k: float(v.value[0]) for k, v in r.results.items()}


def test_scope3_prefill_skips_cached_tokens_and_decode_counts_reasoning():
    r = results(scenario(cached_input_tokens=800, reasoning_tokens=300), "scope3")
    # t_in = 2 * P_m * (n_in - n_cached) / (N_gpu * A_f_gpu) = 2 * 8.03e9 * 200 / (8 * 989.5e12)
    assert r["t_in"] == pytest.approx(2 * P * 200 / (N_GPU * FLOPS), rel=1e-12)
    # t_out = b * P_m * (n_out + n_reason) / (N_gpu * A_bw_gpu) = 2 * 8.03e9 * 500 / (8 * 3.35e12)
    assert r["t_out"] == pytest.approx(2 * P * 500 / (N_GPU * BW), rel=1e-12)
    assert (r["n_prefill"], r["n_decode"]) == (200, 500)


def test_the_classes_default_to_zero_so_todays_results_hold():
    plain = results(scenario(), "scope3")
    zeros = results(scenario(cached_input_tokens=0, reasoning_tokens=0), "scope3")
    assert plain == zeros
    assert plain["t_in"] == pytest.approx(2 * P * 1000 / (N_GPU * FLOPS), rel=1e-12)


def test_llm_bench_prefill_attends_to_the_cached_prefix():
    r = results(scenario(cached_input_tokens=600, reasoning_tokens=100), "llm_bench")
    attention = 4 * D_HEAD * HEADS * LAYERS
    # prefill: seq_len = 1000 - 600 = 400 new tokens, mean attended length n_cached + seq_len = 1000
    assert r["prefill_flops"] == pytest.approx(2 * P * 400 + attention * 1000 * 400, rel=1e-12)
    # decode: seq_len = 200 + 100 = 300, mean attended length (1000 + (1000 + 300 - 1)) / 2 = 1149.5
    assert r["decode_flops"] == pytest.approx(2 * P * 300 + attention * 1149.5 * 300, rel=1e-12)
    plain = results(scenario(), "llm_bench")
    assert plain["prefill_flops"] == pytest.approx(2 * P * 1000 + attention * 1000 * 1000, rel=1e-12)  # the seed


def test_more_cached_than_input_tokens_is_located_in_the_scenario():
    with pytest.raises(ImpactError) as err:
        run(scenario(cached_input_tokens=1001))
    assert err.value.problems[0].message == "cached_input_tokens = 1001 is more than input_tokens = 1000"
    assert err.value.problems[0].location.path == "$.request.cached_input_tokens"


def test_more_cached_than_input_tokens_by_set_is_refused(runner):
    result = runner.invoke(main, ["run", str(BASE), "--set", "n_cached=2000", "--methodology", "scope3"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("--set n_cached=2000: n_cached = 2000 cached input tokens is more than n_in = 1000; "
                             "expected n_cached <= n_in (the cached tokens are part of the input)\n")  # fmt: skip


def test_log_columns_give_the_single_runs(tree, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("model,input_tokens,cached_input_tokens,reasoning_tokens,output_tokens,location\n"
                   "llama-3.1-8b,1000,800,300,200,fr\nllama-3.1-8b,1000,0,0,200,fr\n")  # fmt: skip
    batch = run_batch(log, BASE, tree, methodologies=["scope3", "llm_bench"])
    for m in ("scope3", "llm_bench"):
        a = results(scenario(cached_input_tokens=800, reasoning_tokens=300), m)
        b = results(scenario(), m)
        for name, total in batch.totals.sums[m].items():
            assert total == pytest.approx(a[name] + b[name], rel=1e-12), (m, name)


def test_a_log_row_with_more_cached_than_input_tokens_is_a_bad_row(tree, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("model,input_tokens,cached_input_tokens\nllama-3.1-8b,100,50\nllama-3.1-8b,100,101\n")
    with pytest.raises(ImpactError) as err:
        run_batch(log, BASE, tree)
    problem = err.value.problems[0]
    assert (problem.location.line, problem.location.path) == (3, "$.cached_input_tokens")
    batch = run_batch(log, BASE, tree, skip_bad_rows=True)
    assert (batch.totals.rows, batch.totals.skipped) == (1, 1)


def test_a_sweep_over_cached_tokens_is_linear_in_prefill(tmp_path):
    doc = scenario()
    doc["sweep"] = {"grid": {"cached_input_tokens": [0, 500, 1000]}}
    (r,) = run(doc, methodologies=["scope3"])
    t_in = r.results["t_in"].value
    full = 2 * P * 1000 / (N_GPU * FLOPS)
    assert list(t_in) == pytest.approx([full, full / 2, 0.0], rel=1e-12, abs=1e-18)
    doc["sweep"] = {"grid": {"cached_input_tokens": [0, 1001]}}
    with pytest.raises(ImpactError, match="cached input tokens is more than n_in"):
        run(doc, methodologies=["scope3"])
