"""The serving methodology: single-request physics by hand, load laws as properties, Little's law, mixture of
experts, and the calibration it ships with."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import REPO
from impact.cli import main
from impact.engine import run

LOCAL = str(REPO / "scenarios" / "local-7b-rtx4090.yaml")
ROUND = ["eff_bw=0.8", "eff_f=0.5", "step_overhead=0.005", "tp_overhead=0", "seq_overhead=0", "eff_prefill=0.5",
         "prefill_overhead=0.01", "power_base=0.6", "power_compute=0.4", "eff_link=0.5", "eff_arch=1"]  # fmt: skip


def scenario(model, precision, accelerator, gpus, n_in, n_out, **serving_block):
    """A scenario of `model` at `precision` on `gpus` accelerators in the us, one request of n_in and n_out tokens;
    `serving_block` (engine, concurrency, ...) becomes its serving: block when given."""
    found = {"kind": "scenario", "schema_version": 1, "model": model, "precision": precision,
             "hardware": {"accelerator": accelerator, "gpus": gpus}, "location": "us",
             "request": {"input_tokens": n_in, "output_tokens": n_out}}  # fmt: skip
    return {**found, "serving": serving_block} if serving_block else found


def serving(source, sets=(), **changes):
    data = yaml.safe_load(open(source)) if isinstance(source, str) else dict(source)
    data.update(changes)
    (found,) = run(data, methodologies=["serving"], set=list(sets))
    return {name: float(r.value[0]) for name, r in found.results.items()}, found


def test_one_request_on_a_home_gpu_by_hand():
    r, _ = serving(LOCAL, ROUND)
    # Mistral 7B (7.24e9 parameters, FP16: 2 B each) on one RTX 4090 (165.2 TFLOP/s FP16, 1.008 TB/s, 450 W);
    # 400 tokens in, 300 out, one request (llama.cpp, concurrency 1); fitted numbers set to round values.
    # KV cache per token: 2 x 32 layers x 8 KV heads x 128 x 2 B = 131,072 B; attention width 32 x 32 x 128.
    # prefill: 2 x 7.24e9 x 400 + 2 x 131,072 x 400 x 400 = 5.8339e12 FLOP / (165.2e12 x 0.5) = 0.070628 s,
    #   longer than its reads (1.4532e10 B / 0.8064e12 B/s = 0.018 s); + 0.01 s prefill overhead + 0.005 s (a
    #   forward pass's fixed time, one GPU: no tensor-parallel term) = 0.085628 s
    assert r["ttft"] == pytest.approx(0.085628, rel=1e-4)
    # a decode step runs its weight layers, reading the weights (1.448e10 B / 0.8064e12 B/s = 0.0179563 s, longer
    #   than their 2 x 7.24e9 FLOP / 82.6e12 FLOP/s = 1.753e-4 s), then its attention, reading the KV cache of the
    #   mean context, 400 + 300/2 = 550 tokens (131,072 x 550 B / 0.8064e12 B/s = 8.940e-5 s): 0.018046 s,
    #   + 0.005 s = 0.023046 s
    # itl = 0.023046 + 0.070628 / 300 (its own prefill's compute, 0.070628 s, spread over its steps; its reads
    #   and fixed time are the step's own) = 0.0232814 s: 43 tokens/s
    assert r["t_step"] == pytest.approx(0.023046, rel=1e-4)
    assert r["itl"] == pytest.approx(0.0232814, rel=1e-4)
    # latency = 0.085628 + 300 x 0.0232814 = 7.0701 s: seconds, not the 0.165 s of fifty-fold batching
    assert r["latency"] == pytest.approx(7.07006, rel=1e-4)
    assert r["t_server"] == pytest.approx(r["latency"])  # one request has the GPU to itself
    # power: idle 0.11 x 450 = 49.5 W; compute share (300 x 1.7879e-4 + 0.070628) / (300 x 0.0232814) = 0.017792;
    #   busy = 49.5 + 400.5 x (0.6 + 0.4 x 0.017792) = 292.650 W; E_gpu = 292.650 W x 7.0701 s / 3600 = 0.57474 Wh
    assert r["P_gpu_busy"] == pytest.approx(292.6503, rel=1e-4)
    assert r["E_gpu"] == pytest.approx(0.57474, rel=1e-4)
    # host: the workstation's 50 W idle and one 125 W CPU for the same 7.0701 s: 0.34368 Wh
    assert r["E"] == pytest.approx(0.57474 + 0.34368, rel=1e-4)


def test_the_shipped_local_scenario_takes_seconds_in_both_methodologies(tree):
    (scope3,) = run(LOCAL, tree=tree, methodologies=["scope3"])
    r, _ = serving(LOCAL)
    assert 3 < r["latency"] < 15  # the weights streamed ~300 times, at 20-70 tokens/s
    # scope3 on the local deployment uses its batch-1 betas: no fifty-fold batching either (0.165 s before)
    t_hat = float(scope3.results["t_hat"].value[0])
    assert scope3.inputs["beta_out"].source.startswith("catalogs/calibrations.yaml:") and 0.5 < t_hat / r["latency"] < 2


MODELS = ["llama-3.1-8b", "qwen3-30b-a3b", "mistral-7b", "llama-3.1-70b", "gpt-oss-20b"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(MODELS), n_in=st.integers(1, 4000), n_out=st.integers(1, 2000),
       low=st.integers(1, 64), factor=st.integers(2, 4))  # fmt: skip
def test_more_concurrency_means_less_energy_per_request_and_more_latency(model, n_in, n_out, low, factor):
    base = scenario(model, "bf16", "h100-sxm", 4, n_in, n_out)
    saturated, _ = serving(base, serving={"engine": "vllm"})
    assume(low * factor <= saturated["max_concurrency_memory"])  # more is refused: the KV caches do not fit
    fewer, _ = serving(base, serving={"engine": "vllm", "concurrency": low})
    more, _ = serving(base, serving={"engine": "vllm", "concurrency": low * factor})
    assert more["E"] <= fewer["E"] * (1 + 1e-9)
    assert more["latency"] >= fewer["latency"] * (1 - 1e-9)


def test_a_request_rate_follows_littles_law_and_shares_the_idle_energy():
    shipped = str(REPO / "scenarios" / "serving-request-rate.yaml")
    r, found = serving(shipped)
    # requests arriving at 2/s and staying `latency` seconds: about 2 x latency in the group at once
    assert r["concurrency"] == pytest.approx(2 * r["latency"], rel=0.15)
    assert r["throughput"] == 2 and r["t_server"] == pytest.approx(0.5)
    saturated, _ = serving(shipped, serving={"engine": "vllm"})
    assert r["E"] > saturated["E"]  # a half-idle group charges each request more than a saturated one
    busy_only, _ = serving(shipped, ["idle_attribution=0"])
    assert busy_only["E"] < r["E"]
    over, found = serving(shipped, serving={"engine": "vllm", "request_rate": 1e6})
    assert over["concurrency"] == over["max_concurrency"]
    assert any(w.startswith("over_capacity: request_rate 1,000,000 requests/s is more than the group serves")
               for w in found.warnings)  # fmt: skip


def test_a_mixture_of_experts_reads_the_experts_its_batch_routes_to():
    base = scenario("mixtral-8x7b", "fp16", "h100-sxm", 2, 100, 100)
    one, _ = serving(base, serving={"engine": "vllm", "concurrency": 1})
    # Mixtral: 46.7e9 total, 12.9e9 active, 8 experts, 2 per token: routed = (46.7 - 12.9) x 8 / 6 = 45.07e9
    routed = (46.7e9 - 12.9e9) * 8 / 6
    assert one["expert_params"] == pytest.approx(routed, rel=1e-3)
    # one token reads the shared part and 2 of 8 experts; 16 tokens read 1 - (6/8)^16 = 99% of them
    assert 1 - (1 - 2 / 8) ** 16 == pytest.approx(0.98998, rel=1e-4)
    many, _ = serving(base, serving={"engine": "vllm", "concurrency": 16})
    weights_one = 2 * (46.7e9 - routed + routed * 2 / 8)
    kv = one["kv_per_token"] * one["context"]
    assert one["step_bytes"] == pytest.approx(weights_one + kv, rel=1e-6)
    assert many["step_bytes"] == pytest.approx(2 * (46.7e9 - routed + routed * 0.98998) + 16 * kv, rel=1e-4)


def test_tensor_parallel_all_reduces_cost_link_time_per_token():
    base = scenario("llama-3.1-70b", "fp16", "h100-sxm", 8, 1000, 500, engine="vllm", concurrency=64)
    r, _ = serving(base, ROUND)
    # Llama 3.1 70B: 80 layers x 64 heads x 128 = 655,360 wide; a token all-reduces two 16-bit activations a layer,
    # 4 x 655,360 x 2 B = 5,242,880 B; a ring of 8 moves 2 x 7/8 = 1.75 of it over half of 900 GB/s at eff_link 0.5:
    # 1.75 x 5,242,880 / (450e9 x 0.5) = 4.0778e-5 s a token
    assert r["t_tp_token"] == pytest.approx(1.75 * 5242880 / 225e9, rel=1e-9)
    # a decode step of 64 requests adds 64 of them to its weight layers, its attention and its fixed time
    assert r["t_step"] == pytest.approx(r["t_linear"] + r["t_attention"] + 64 * 4.07779e-5 + 0.005, rel=1e-5)
    # the weight layers read 70.55e9 x 2 B / (8 x 3.35e12 x 0.8 B/s) = 6.581e-3 s, longer than computing
    #   64 x 2 x 70.55e9 FLOP / (8 x 989.5e12 x 0.5 FLOP/s) = 2.282e-3 s
    assert r["t_linear"] == pytest.approx(70.55e9 * 2 / (8 * 3.35e12 * 0.8), rel=1e-9)
    # attention: 64 requests x 327,680 B a token (2 x 80 layers x 8 KV heads x 128 x 2 B) x 1,250 tokens of mean
    #   context (1,000 + 500 / 2), over the same bandwidth
    assert r["t_attention"] == pytest.approx(64 * 327680 * 1250 / (8 * 3.35e12 * 0.8), rel=1e-9)
    # on one GPU there is nothing to all-reduce
    one, _ = serving({**base, "hardware": {"accelerator": "h200-sxm", "gpus": 1}, "model": "llama-3.1-8b"}, ROUND)
    assert one["t_tp_token"] == 0
    # a card without NVLink (L40S, PCIe Gen4 x16, 64 GB/s) pays 14 times the link time of an H100's NVLink
    pcie, _ = serving({**base, "hardware": {"accelerator": "l40s", "gpus": 8}, "precision": "fp8"}, ROUND)
    assert pcie["t_tp_token"] / r["t_tp_token"] == pytest.approx(900 / 64, rel=1e-9)


def test_compressed_attention_declares_its_kv_cache():
    base = scenario("deepseek-v3", "fp8", "h200-sxm", 8, 1000, 1000)
    r, _ = serving(base, serving={"engine": "vllm", "concurrency": 8})
    # MLA: 61 layers x (512 + 64) = 35,136 values per token at 2 B (16-bit KV), not 2 x 61 x 128 x 128 x 2
    assert r["kv_per_token"] == 35136 * 2


def test_a_hybrid_model_reads_and_writes_its_recurrent_state_every_step():
    base = scenario("nemotron-nano-9b-v2", "bf16", "h100-sxm", 1, 600, 400, engine="vllm", concurrency=8)
    r, found = serving(base, ROUND)
    # Nemotron Nano 9B v2: 27 Mamba-2 layers, each holding 128 heads x 80 x 128 SSM state plus a convolution state
    #   of 3 x (128 x 80 + 2 x 8 groups x 128): 27 x (1,310,720 + 36,864) = 36,384,768 elements a request
    state = float(found.inputs["state_elements"].value[0])
    assert state == 27 * (128 * 80 * 128 + 3 * (128 * 80 + 2 * 8 * 128)) == 36384768
    # its 4 attention layers hold 2 x 4 x 8 x 128 x 2 B = 16,384 B a token, read over the mean context of
    #   600 + 400 / 2 = 800 tokens: 13,107,200 B; the state, 4 B (float32) an element, is read and written:
    #   2 x 36,384,768 x 4 = 291,078,144 B; both at 3.35e12 x 0.8 B/s = 2.68e12 B/s
    assert r["t_attention_request"] == pytest.approx((13107200 + 291078144) / 2.68e12, rel=1e-9)
    # a request holds its KV cache at its end (1,000 tokens) and its state: 16,384,000 + 145,539,072 B
    assert r["kv_per_request"] == 16384 * 1000 + 36384768 * 4
    # a transformer has no state: Qwen3 8B's attention time is its KV reads alone
    plain, found = serving({**base, "model": "qwen3-8b"}, ROUND)
    assert float(found.inputs["state_elements"].value[0]) == 0
    assert plain["t_attention_request"] == pytest.approx(plain["kv_per_token"] * 800 / 2.68e12, rel=1e-9)


def test_an_architecture_family_scales_the_engines_efficiencies(tree):
    shipped = yaml.safe_load((REPO / "catalogs" / "calibrations.yaml").read_text())["entries"]["default"]
    family = shipped["serving_eff_arch"]
    assert family["hopper"] == 1  # the reference, fixed
    base = scenario("llama-3.1-8b", "bf16", "b200", 1, 600, 400, engine="vllm", concurrency=8)
    b200, found = serving(base)
    # B200: 7.7 TB/s (the catalog's HGX B200 figure) x vLLM's fitted share x Blackwell's share of what Hopper achieves
    assert float(found.inputs["eff_arch"].value[0]) == family["blackwell"] < 1
    assert b200["bw_achieved"] == pytest.approx(7.7e12 * shipped["serving_eff_bw"]["vllm"] * family["blackwell"])
    # a family no table measures (AMD CDNA 3) takes the reference's 1
    _, found = serving({**base, "hardware": {"accelerator": "mi300x", "gpus": 1}})
    assert float(found.inputs["eff_arch"].value[0]) == 1


def test_an_accelerator_without_a_fitted_family_says_so(tree_copy):
    from impact.engine.tree import Tree

    path = tree_copy / "catalogs" / "accelerators.yaml"
    path.write_text(path.read_text().replace("    architecture: cdna3\n", "", 1))  # MI300X, the first CDNA 3 entry
    said = {}
    for accelerator in ("mi300x", "mi325x"):  # without an architecture; with one no table measures
        one = scenario("llama-3.1-8b", "bf16", accelerator, 1, 600, 400, engine="vllm", concurrency=8)
        (found,) = run(one, tree=Tree(tree_copy), methodologies=["serving"])
        assert float(found.inputs["eff_arch"].value[0]) == 1
        said[accelerator] = next(a for a in found.assumptions if a.startswith("eff_arch"))
    assert said["mi300x"] == "eff_arch: accelerator 'mi300x' has no architecture; used the default 1"
    assert said["mi325x"] == "eff_arch: calibration 'default' has no serving_eff_arch.cdna3; used the default 1"


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            "    eff_bw: {min: 0.2, max: 1, start: 0.7}",
            "    eff_bw: {min: 0.2, max: 1, start: 0.7, per: accelerator.architecture}",
        ),
        ("    eff_f: {min: 0.05, max: 1, start: 0.5}", "    eff_fx: {min: 0.05, max: 1, start: 0.5}"),
    ],
)
def test_a_fitted_input_must_read_the_key_it_is_fitted_per(tree_copy, runner, edit, message):
    path = tree_copy / "formulas" / "serving.yaml"
    text = path.read_text()
    assert edit in text
    path.write_text(text.replace(edit, message))
    result = runner.invoke(main, ["run", "scenarios/chatbot-llama70b-h100.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    line = text[: text.index(edit)].count("\n") + 1
    expected = {
        "eff_bw": (
            f"formulas/serving.yaml:{line}:5: $.calibration.fitted.eff_bw: 'eff_bw' is fitted per "
            "accelerator.architecture, but the input reads calibration.serving_eff_bw[engine.fit]; "
            "expected from: calibration.FIELD[accelerator.architecture]\n"
        ),
        "eff_fx": (
            f"formulas/serving.yaml:{line}:5: $.calibration.fitted.eff_fx: fitted 'eff_fx' is not an "
            "input of this methodology; expected the name of an input\n  hint: did you mean 'eff_f', 'eff_bw'?\n"
        ),
    }
    assert result.stderr.split("\n", 1)[1] == expected[message.split(":")[0].strip()]  # after "using the tree"


def test_a_family_without_rows_predicts_with_the_reference_value(tree):
    from impact.engine import fitting
    from impact.engine.errors import Location

    method = tree.methodology("serving", Location(None, path="--methodology serving"))
    fitter = fitting.Fitter(method, fitting.prepare(tree, method))
    shipped = yaml.safe_load((REPO / "catalogs" / "calibrations.yaml").read_text())["entries"]["default"]
    values = {}
    for field, by_key in shipped.items():
        if field.startswith("serving_"):
            for key, value in by_key.items():
                values.setdefault(key, {})[field.removeprefix("serving_")] = value
    blackwell = fitter.rows.keys["accelerator.architecture"] == "blackwell"
    full = fitter.predict(values)
    without = fitter.predict({k: v for k, v in values.items() if k != "blackwell"})
    at_one = fitter.predict({**values, "blackwell": {"eff_arch": 1.0}})
    for result in ("t_step", "t_server"):
        ok = np.isfinite(full[result])
        assert np.array_equal(without[result][ok], at_one[result][ok])  # absent is the reference's 1
        assert np.array_equal(full[result][ok & ~blackwell], without[result][ok & ~blackwell])  # other rows unmoved
        assert np.all(full[result][ok & blackwell] > without[result][ok & blackwell])  # 0.72: slower there


def test_the_shipped_calibration_is_what_calibrate_fits(runner):
    result = runner.invoke(main, ["calibrate", "--methodology", "serving", "--dry-run", "--no-held-out",
                                  "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    fit = json.loads(result.stdout)
    shipped = yaml.safe_load((REPO / "catalogs" / "calibrations.yaml").read_text())["entries"]["default"]
    for engine, values in fit["values"].items():
        for name, value in values.items():
            assert shipped[f"serving_{name}"][engine] == pytest.approx(value, rel=1e-6, abs=1e-12), (engine, name)
    assert fit["references"] == {"eff_arch": "hopper"}  # the family with most rows anchors the per-family values
    assert fit["written"] is None
    assert set(fit["rows"]) == {"trtllm-throughput", "trtllm-static", "trtllm-ttft", "seed002-decode-speed", "mlenergy"}


def test_held_out_errors_are_recorded_with_the_calibration():
    shipped = yaml.safe_load((REPO / "catalogs" / "calibrations.yaml").read_text())["entries"]["default"]
    held_out = shipped["fits"]["serving"]["errors"]["held_out_by_model"]
    assert {"trtllm-throughput:t_server", "trtllm-ttft:ttft", "seed002-decode-speed:itl", "mlenergy:E_gpu",
            "mlenergy:t_step", "mlenergy:P_gpu_load"} <= set(held_out)  # fmt: skip
    assert all(0 < e["mape"] < 1 and math.isfinite(e["median_ratio"]) for e in held_out.values())
