"""Memory methodology (seeds 002 and 003): values computed by hand, GB = 1e9 bytes."""

from __future__ import annotations

import pytest

from conftest import REPO
from impact.engine import run


def memory(scenario, tree, **kwargs):
    (result,) = [r for r in run(scenario, tree=tree, methodologies=["memory"], **kwargs)]
    return {name: float(r.value[0]) for name, r in result.results.items()}


def test_seed_003_question_a_34b_model_on_one_lumi_gcd(tree):
    r = memory(REPO / "scenarios/lumi-34b-mi250x.yaml", tree)
    assert r["weights"] == pytest.approx(34.2e9 * 2 / 1e9)  # 68.4 GB in BF16
    assert r["memory"] == pytest.approx(1.2 * 68.4)  # 82.08 GB with the 20% overhead
    kv = 2 * 54 * 56 * 128 * 2 * (200 + 400) * 1 / 1e9  # K and V x layers x heads x dim x 2 B x tokens = 0.929 GB
    assert r["kv_cache"] == pytest.approx(kv)
    assert r["memory_total"] == pytest.approx(82.08 + kv)
    assert r["gpus_needed"] == 2  # ceil(83.01 / 64)
    assert r["fits"] == 0  # not on one 64 GB GCD


def test_gqa_kv_cache_of_llama_3_1_70b(tree):
    r = memory(REPO / "scenarios/chatbot-llama70b-h100.yaml", tree)
    assert r["kv_cache"] == pytest.approx(2 * 80 * 8 * 128 * 2 * 1500 / 1e9)  # 8 KV heads: 0.49152 GB
    assert r["weights"] == pytest.approx(70.55e9 * 2 / 1e9)  # 141.1 GB
    assert r["gpus_needed"] == 3  # ceil((169.32 + 0.49152) / 80)
    assert r["fits"] == 1  # 8 x 80 GB
    assert r["memory_utilization"] == pytest.approx((169.32 + 0.49152) / 640)


@pytest.mark.parametrize(
    "precision, bytes_per_weight", [("fp32", 4), ("fp16", 2), ("bf16", 2), ("int8", 1), ("fp8", 1), ("int4", 0.5)]
)
def test_bytes_per_weight_by_precision(tree, precision, bytes_per_weight):
    scenario = {
        "kind": "scenario",
        "schema_version": 1,
        "model": "llama-2-7b",
        "precision": precision,
        "hardware": "a100-sxm-80gb",
        "location": "us",
        "request": {"input_tokens": 0, "output_tokens": 0},
    }
    r = memory(scenario, tree)
    assert r["weights"] == pytest.approx(6.74e9 * bytes_per_weight / 1e9)
    assert r["kv_cache"] == 0


def test_concurrent_sequences_multiply_the_kv_cache(tree):
    one = memory(REPO / "scenarios/chatbot-llama70b-h100.yaml", tree)
    many = memory(REPO / "scenarios/chatbot-llama70b-h100.yaml", tree, set={"concurrent_sequences": 64})
    assert many["kv_cache"] == pytest.approx(64 * one["kv_cache"])
