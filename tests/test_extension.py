"""Extension by configuration alone: each test adds YAML to a copy of the shipped tree (no Python change)
and runs a scenario through it with `--root`."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from impact.cli import main

SCENARIO = """kind: scenario
schema_version: 1
model: {model}
hardware: {{accelerator: {accelerator}, gpus: 2}}
location: se
request: {{input_tokens: 2000, output_tokens: 300}}
"""


def invoke(runner, root, *args):
    result = runner.invoke(main, [*args, "--root", str(root), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_new_accelerator_and_a_new_model(runner, tree_copy):
    (tree_copy / "catalogs" / "lab.yaml").write_text("""kind: catalog
schema_version: 1
catalog: accelerators
entries:
  lab-npu:
    name: Lab NPU
    memory_gb: 48
    memory_bandwidth_tb_s: 2.0
    dense_tflops: {bf16: 400}
    tdp_w: 350
    default_server: pcie-server-8
    source: lab measurement sheet 2026-11
""")
    (tree_copy / "catalogs" / "lab-models.yaml").write_text("""kind: catalog
schema_version: 1
catalog: models
entries:
  lab-13b:
    name: Lab 13B
    total_params_b: 13
    active_params_b: 13
    layers: 40
    attention_heads: 40
    kv_heads: 8
    head_dim: 128
    source: internal model card
""")
    (tree_copy / "s.yaml").write_text(SCENARIO.format(model="lab-13b", accelerator="lab-npu") + "precision: bf16\n")
    runs = {r["methodology"]: r for r in invoke(runner, tree_copy, "run", "s.yaml")["runs"]}
    scope3 = runs["scope3"]["results"]
    assert scope3["t_in"]["value"] == pytest.approx(2 * 13e9 * 2000 / (2 * 400e12))  # 0.065 s
    assert scope3["t_out"]["value"] == pytest.approx(2 * 13e9 * 300 / (2 * 2.0e12))  # 1.95 s
    assert runs["scope3"]["inputs"]["P_gpu"]["source"].startswith("catalogs/lab.yaml:")
    assert runs["memory"]["results"]["kv_cache"]["value"] == pytest.approx(2 * 40 * 8 * 128 * 2 * 2300 / 1e9)


def test_a_new_methodology_file(runner, tree_copy):
    (tree_copy / "formulas" / "roofline.yaml").write_text("""kind: formulas
schema_version: 1
methodology: roofline
version: "0.1.0"
description: Each phase takes the longer of its compute time and its memory time.
headline: {duration: t, energy: E}
inputs:
  n_in: {unit: token, description: Input tokens., from: request.input_tokens}
  n_out: {unit: token, description: Output tokens., from: request.output_tokens}
  P: {unit: parameter, description: Active parameters., from: model.active_params_b, scale: 1.0e9}
  b: {unit: B/parameter, description: Bytes per parameter., from: precision.bytes_per_param}
  F: {unit: FLOP/s, description: Dense FLOP/s., from: "accelerator.dense_tflops[precision.compute]", scale: 1.0e12}
  BW: {unit: B/s, description: Memory bandwidth., from: accelerator.memory_bandwidth_tb_s, scale: 1.0e12}
  W: {unit: W, description: Accelerator power., from: accelerator.tdp_w}
constants:
  s_per_h: {value: 3600, unit: s/h, description: Seconds per hour.}
formulas:
  t_prefill: {expr: "maximum(2 * P * n_in / F, b * P / BW)", unit: s, description: Prefill.}
  t_decode: {expr: "n_out * maximum(2 * P / F, b * P / BW)", unit: s, description: Decode.}
  t: {expr: t_prefill + t_decode, unit: s, description: Duration.}
  E: {expr: t * W / s_per_h, unit: Wh, description: Accelerator energy.}
""")
    (tree_copy / "s.yaml").write_text(SCENARIO.format(model="llama-2-7b", accelerator="h100-sxm"))
    (run,) = invoke(runner, tree_copy, "run", "s.yaml", "--methodology", "roofline")["runs"]
    decode = 300 * max(2 * 6.74e9 / 989.5e12, 2 * 6.74e9 / 3.35e12)  # memory bound: 1.207 s
    assert run["results"]["t_decode"]["value"] == pytest.approx(decode)
    compared = invoke(runner, tree_copy, "compare", "s.yaml")
    assert compared["methodologies"] == ["scope3", "serving", "llm_bench", "roofline"]


PRUNING = """kind: optimization
schema_version: 1
optimization: pruning
version: "0.1.0"
description: Structured pruning removes a share of the parameters.
applies_to:
  scope3:
    inputs:
      kept: {unit: "", description: Share of the parameters kept., default: 0.5, on_missing: assume}
    formulas:
      t_in: {expr: 2 * P_m * kept * n_in / A_f, unit: s, description: Prefill of the rest., extensive: true}
      t_out: {expr: b * P_m * kept * n_out / A_bw, unit: s, description: Decode of the rest., extensive: true}
  memory:
    inputs:
      kept: {unit: "", description: Share of the parameters kept., default: 0.5, on_missing: assume}
    formulas:
      weights: {expr: P_total * kept * bytes_per_weight / B_per_GB, unit: GB, description: Weights kept.}
"""


def test_a_new_optimization(runner, tree_copy):
    (tree_copy / "formulas" / "optimizations" / "pruning.yaml").write_text(PRUNING)
    (tree_copy / "s.yaml").write_text(SCENARIO.format(model="llama-2-7b", accelerator="h100-sxm"))
    plain = {r["methodology"]: r for r in invoke(runner, tree_copy, "run", "s.yaml")["runs"]}
    (tree_copy / "s.yaml").write_text(SCENARIO.format(model="llama-2-7b", accelerator="h100-sxm")
                                      + "optimizations: [pruning]\n")  # fmt: skip
    runs = {r["methodology"]: r for r in invoke(runner, tree_copy, "run", "s.yaml")["runs"]}
    assert runs["scope3"]["optimizations"] == ["pruning"]
    assert runs["scope3"]["results"]["t_in"]["value"] == pytest.approx(plain["scope3"]["results"]["t_in"]["value"] / 2)
    assert runs["memory"]["results"]["weights"]["value"] == pytest.approx(6.74e9 / 2 * 2 / 1e9)  # fp16: 2 B each


def test_an_optimization_with_a_wrong_binding_scale_does_not_run(runner, tree_copy):
    """Halving the parameters through `scale: 5.0e8` is a unit slip (Gparameter -> parameter is 1e9): a run
    refuses it as impact check does, at the scale's line, instead of computing with it."""
    (tree_copy / "formulas" / "optimizations" / "pruning.yaml").write_text("""kind: optimization
schema_version: 1
optimization: pruning
version: "0.1.0"
description: Structured pruning removes a share of the parameters.
applies_to:
  scope3:
    inputs:
      P_m: {unit: parameter, description: Parameters left., from: model.active_params_b, scale: 5.0e8}
""")
    (tree_copy / "s.yaml").write_text(SCENARIO.format(model="llama-2-7b", accelerator="h100-sxm")
                                      + "optimizations: [pruning]\n")  # fmt: skip
    result = runner.invoke(main, ["run", "s.yaml", "--root", str(tree_copy)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "formulas/optimizations/pruning.yaml:9:97: $.applies_to.scope3.inputs.P_m.scale: input 'P_m' in "
        "'parameter' (dimensionless) reads model.active_params_b, declared in 'Gparameter' (dimensionless), with "
        "scale 5e+08; converting 'Gparameter' to 'parameter' needs 1e+09; expected scale: 1e+09\n"
    )


@pytest.mark.parametrize("scenario", ["chatbot-llama70b-h100", "rag-long-context"])
def test_shipped_speculative_decoding_divides_decode_steps(runner, scenario):
    path = str(REPO / "scenarios" / f"{scenario}.yaml")
    plain = json.loads(runner.invoke(main, ["run", path, "--methodology", "scope3", "--format", "json"]).stdout)
    fast = json.loads(runner.invoke(main, ["run", path, "--methodology", "scope3", "--format", "json",
                                           "--optimization", "speculative-decoding"]).stdout)  # fmt: skip
    (plain,), (fast,) = plain["runs"], fast["runs"]
    assert fast["results"]["t_out"]["value"] == pytest.approx(plain["results"]["t_out"]["value"] / 2.0)
    assert fast["results"]["t_in"]["value"] == plain["results"]["t_in"]["value"]
    assert fast["version"] == "1.0.0+speculative-decoding.1.0.0"
    assert "acceptance_factor" in fast["inputs"]


def test_shipped_batching_and_fp8_kv_cache(runner):
    path = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
    args = ["run", path, "--format", "json", "--optimization", "batching", "--optimization", "kv-cache-fp8"]
    runs = {r["methodology"]: r for r in json.loads(runner.invoke(main, args).stdout)["runs"]}
    t_out = 2 * 70.55e9 * 500 / (8 * 3.35e12) / 64  # the request's share of a batch of 64
    assert runs["scope3"]["results"]["t_out"]["value"] == pytest.approx(t_out)
    assert runs["memory"]["results"]["kv_cache"]["value"] == pytest.approx(2 * 80 * 8 * 128 * 1 * 1500 / 1e9)
    assert runs["memory"]["optimizations"] == ["kv-cache-fp8"] and runs["scope3"]["optimizations"] == ["batching"]


def test_batching_can_be_set_like_any_input(runner):
    path = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
    args = ["run", path, "--methodology", "scope3", "--format", "json", "--optimization", "batching",
            "--set", "batch_size=8"]  # fmt: skip
    (run,) = json.loads(runner.invoke(main, args).stdout)["runs"]
    assert run["results"]["t_out"]["value"] == pytest.approx(2 * 70.55e9 * 500 / (8 * 3.35e12) / 8)
