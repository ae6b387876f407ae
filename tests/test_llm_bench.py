"""LLM-Bench FLOP energy (seed 001): the seed's worked example, by hand, to 1e-9 relative."""

from __future__ import annotations

import pytest

from conftest import REPO
from impact.engine import run

SEED_CONSTANTS = {"gpu_power": 1500, "gpu_flops": 1e15}  # the seed's H100: 1500 W, 1e15 FLOP/s, 1.5e-12 J/FLOP


def llm_bench(tree, model, n_in=1000, n_out=500, **overrides):
    scenario = {"kind": "scenario", "schema_version": 1, "model": model, "hardware": "h100-sxm", "location": "us",
                "request": {"input_tokens": n_in, "output_tokens": n_out}}  # fmt: skip
    (result,) = run(scenario, tree=tree, methodologies=["llm_bench"], set=overrides)
    return {name: float(r.value[0]) for name, r in result.results.items()}


@pytest.mark.parametrize(
    "model, params, d_head, heads, layers",
    [("llama-2-7b", 6.74e9, 128, 32, 32), ("llama-3.1-70b", 70.55e9, 128, 64, 80), ("mistral-7b", 7.24e9, 128, 32, 32)],
)
def test_seed_worked_example(tree, model, params, d_head, heads, layers):
    r = llm_bench(tree, model, **SEED_CONSTANTS)
    # prefill: arithmetic_cost_flop(input_len=0, seq_len=1000, masked) -> mean_input_len = 0 + 1000
    prefill = 2 * params * 1 * 1000 + 4 * d_head * heads * layers * (0 + 1000) * 1 * 1000
    # decode: arithmetic_cost_flop(input_len=1000, seq_len=500) -> mean_input_len = (1000 + (1000 + 500 - 1)) / 2
    decode = 2 * params * 1 * 500 + 4 * d_head * heads * layers * ((1000 + 1499) / 2) * 1 * 500
    assert r["joules_per_flop"] == pytest.approx(1.5e-12, rel=1e-15)
    assert r["prefill_flops"] == pytest.approx(prefill, rel=1e-9)
    assert r["decode_flops"] == pytest.approx(decode, rel=1e-9)
    assert r["prefill_energy"] == pytest.approx(prefill * (1 / 0.5) * 1.5e-12 / 3600, rel=1e-9)  # Wh
    assert r["decode_energy"] == pytest.approx(decode * (1 / 0.1) * 1.5e-12 / 3600, rel=1e-9)
    assert r["energy"] == pytest.approx((prefill / 0.5 + decode / 0.1) * 1.5e-12 / 3600, rel=1e-9)
    assert r["prefill_time"] == pytest.approx(prefill / (1e15 * 0.5), rel=1e-9)
    assert r["decode_time"] == pytest.approx(decode / (1e15 * 0.1), rel=1e-9)


def test_llama_2_7b_numbers_written_out(tree):
    r = llm_bench(tree, "llama-2-7b", **SEED_CONSTANTS)
    # 2 x 6.74e9 x 1000 = 1.348e13; 4 x 128 x 32 x 32 x 1000 x 1000 = 5.24288e11 -> 1.4004288e13 FLOPs
    assert r["prefill_flops"] == pytest.approx(1.4004288e13, rel=1e-12)
    # 2 x 6.74e9 x 500 = 6.74e12; 524288 x 1249.5 x 500 = 3.27548928e11 -> 7.067548928e12 FLOPs
    assert r["decode_flops"] == pytest.approx(7.067548928e12, rel=1e-12)
    # 1.4004288e13 x 2 x 1.5e-12 / 3600 = 0.011670240 Wh; 7.067548928e12 x 10 x 1.5e-12 / 3600 = 0.029448121 Wh
    assert r["prefill_energy"] == pytest.approx(0.01167024, rel=1e-9)
    assert r["decode_energy"] == pytest.approx(0.02944812053333333, rel=1e-9)


def test_catalog_hardware_replaces_the_seeds_h100_constants(tree):
    r = llm_bench(tree, "llama-2-7b")
    assert r["joules_per_flop"] == pytest.approx(700 / 989.5e12, rel=1e-12)  # H100 SXM: 700 W TDP, FP16 dense
    seed = llm_bench(tree, "llama-2-7b", **SEED_CONSTANTS)
    assert r["prefill_flops"] == seed["prefill_flops"]  # FLOPs do not depend on hardware
    assert r["energy"] == pytest.approx(seed["energy"] * (700 / 989.5e12) / 1.5e-12, rel=1e-12)


def test_more_gpus_shorten_the_time_not_the_energy(tree):
    one = llm_bench(tree, "llama-2-7b", N_gpu=1)
    four = llm_bench(tree, "llama-2-7b", N_gpu=4)
    assert four["duration"] == pytest.approx(one["duration"] / 4, rel=1e-12)
    assert four["energy"] == one["energy"]


def test_zero_output_tokens_have_no_decode_cost(tree):
    r = llm_bench(tree, "llama-2-7b", n_out=0)
    assert r["decode_flops"] == 0 and r["decode_energy"] == 0


def test_seed_constants_from_the_command_line(runner):
    import json

    from impact.cli import main

    scenario = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
    args = ["run", scenario, "--methodology", "llm_bench", "--format", "json", "--set", "gpu_power=1.5 kW",
            "--set", "gpu_flops=1e15"]  # fmt: skip
    (result,) = json.loads(runner.invoke(main, args).stdout)["runs"]
    assert result["results"]["joules_per_flop"]["value"] == pytest.approx(1.5e-12, rel=1e-15)
    assert result["inputs"]["gpu_power"]["source"] == "--set gpu_power=1.5 kW"
