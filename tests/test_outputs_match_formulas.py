"""`impact run scenarios/<each>.yaml --format json` gives results that match the formulas for the inputs it
reports: each result is recomputed here in plain Python, written from the seeds, from the JSON's own inputs."""

from __future__ import annotations

import json
import math

import pytest

from conftest import REPO
from impact.cli import main

SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


def scope3_by_hand(i: dict) -> dict:
    t_in = 2 * i["P_m"] * i["n_in"] / (i["N_gpu"] * i["A_f_gpu"])
    t_out = i["b"] * i["P_m"] * i["n_out"] / (i["N_gpu"] * i["A_bw_gpu"])
    t_hat = i["beta_in"] * t_in + i["beta_out"] * t_out
    share = i["N_gpu"] / i["gpus_per_server"]
    power = i["P_idle_server"] * share + i["N_gpu"] * i["P_gpu"] + i["N_cpu_server"] * share * i["P_cpu"]
    energy = t_hat * power / 3600
    hours = i["use_life"] * 8760 * i["utilization"]
    emb_em = (i["N_gpu"] * i["gpu_embodied"] + share * i["server_embodied"]) * 1000 / hours
    emb_h2o = (i["N_gpu"] * i["gpu_embodied_water"] + share * i["server_embodied_water"]) / hours
    ft_requests = i["ft_requests_per_day"] * i["ft_use_life_days"]
    training = i["training_tco2e"] * 1e6 / i["lifetime_requests"] + i["ft_emissions"] * 1000 / ft_requests
    training_h2o = i["training_water"] / i["lifetime_requests"] + i["ft_water"] / ft_requests
    wue = i["WUE_onsite"] + i["PUE"] * i["WUE_electricity"]
    market = i["PUE"] * energy * i["market_gco2e_per_kwh"] / 1000  # the same energy at the contractual factor
    return {
        "t_in": t_in, "t_out": t_out, "t_total": t_in + t_out, "t_hat": t_hat, "E": energy,
        "E_facility": i["PUE"] * energy,
        "emissions": i["PUE"] * energy * i["grid_intensity"] / 1000 + t_hat * emb_em / 3600 + training,
        "operational_emissions_market": market,
        "emissions_market": market + t_hat * emb_em / 3600 + training,
        "water": energy * wue / 1000 + t_hat * emb_h2o / 3600 + training_h2o,
    }  # fmt: skip


def memory_by_hand(i: dict) -> dict:
    memory = i["overhead"] * i["P_total"] * i["bytes_per_weight"] / 1e9
    kv = 2 * i["layers"] * i["kv_heads"] * i["head_dim"] * i["kv_bytes"] * (i["n_in"] + i["n_out"])
    total = memory + kv * i["concurrent_sequences"] / 1e9
    return {"memory": memory, "memory_total": total, "gpus_needed": math.ceil(total / i["memory_per_gpu"]),
            "fits": float(total <= i["N_gpu"] * i["memory_per_gpu"])}  # fmt: skip


def serving_by_hand(i: dict) -> dict:
    """The serving methodology in plain Python (formulas/serving.yaml): a given, saturated or Little's-law load."""
    n_dec = max(i["n_out"] + i["n_reason"], 1)
    kv_values = i["kv_declared"] or 2 * i["layers"] * i["kv_heads"] * i["head_dim"] or i["kv_per_param"] * i["P_total"]
    kv_token = kv_values * i["kv_bytes"]
    width = i["layers"] * i["attention_heads"] * i["head_dim"] or i["attn_per_param"] * i["P_total"]
    e, k = i["experts"], i["experts_per_token"]
    routed = (i["P_total"] - i["P_m"]) * e / (e - k) if e > k else 0.0
    shared = i["P_total"] - routed
    weights = i["P_total"] * i["b"] / 1e9
    capacity = i["N_gpu"] * i["memory_per_gpu"] * i["GiB_per_GB_sold"] * 1.073741824
    usable = weights + min(i["memory_fraction"] * capacity - weights, i["free_memory_fraction"] * (capacity - weights))
    state = i["state_elements"] * i["state_bytes"]  # a hybrid model's fixed recurrent state per request
    held = kv_token * (i["n_in"] + i["n_out"] + i["n_reason"]) + state
    fit = math.floor((usable - weights) * 1e9 / max(held, 1))
    most = max(min(i["max_concurrency_engine"], fit), 1)
    # peak rates x the architecture family's share (eff_arch), which every engine efficiency below multiplies
    flops_per_s, bytes_per_s = (i["N_gpu"] * i["A_f_gpu"] * i["eff_arch"], i["N_gpu"] * i["A_bw_gpu"] * i["eff_arch"])
    n_new = i["n_in"] - i["n_cached"]
    context = i["n_in"] + n_dec / 2
    prefill_flops = 2 * i["P_m"] * n_new + 2 * width * n_new * (n_new + 2 * i["n_cached"])
    copies = shared * i["attention_replicas"]  # the shared weights, read once per copy
    prefill_bytes = i["b"] * (copies + routed * (1 - (1 - k / e) ** max(n_new, 1))) + kv_token * i["n_in"]
    # a forward pass's fixed time: two all-reduces a layer, each of 2 (N - 1) ring steps of latency tp_overhead
    fixed = i["step_overhead"] + 4 * i["layers"] * (i["N_gpu"] - 1) * i["tp_overhead"]
    # tensor-parallel all-reduces: two hidden-size activations a layer per token, a ring moving 2 (N - 1) / N of
    # each message over half the link bandwidth (one direction)
    tp_token = 2 * (i["N_gpu"] - 1) / i["N_gpu"] * 4 * width * i["act_bytes"] / (i["link_bw_gpu"] / 2 * i["eff_link"])
    t_prefill = (max(prefill_flops / (flops_per_s * i["eff_prefill"]), prefill_bytes / (bytes_per_s * i["eff_bw"]))
                 + n_new * tp_token + i["prefill_overhead"] + fixed)  # fmt: skip
    batched = prefill_flops / (flops_per_s * i["eff_prefill"]) + n_new * tp_token  # a prefill inside a batch
    step_flops = 2 * i["P_m"] + 4 * width * context

    def step(batch):  # (compute time, step time) of a decode step of `batch` requests
        # the weight layers (read the routed weights or compute, whichever is longer), then attention (read
        # every request's KV cache or compute its attention FLOPs), one after the other
        weights = i["b"] * (copies + routed * (1 - (1 - k / e) ** batch)) / (bytes_per_s * i["eff_bw"])
        linear = max(weights, batch * 2 * i["P_m"] / (flops_per_s * i["eff_f"]))
        attention = batch * (max(kv_token * context / (bytes_per_s * i["eff_bw"]),
                                 4 * width * context / (flops_per_s * i["eff_f"]))
                             + 2 * state / (bytes_per_s * i["eff_bw"]))  # the state is read and written  # fmt: skip
        compute = batch * step_flops / (flops_per_s * i["eff_f"])
        return compute, linear + attention + batch * tp_token + fixed + batch * i["seq_overhead"]

    rate, busy, saturated = i["request_rate"], 1.0, False
    if rate > 0:  # Little's law on the secant of latency between batch 1 and the largest batch
        latency_1 = t_prefill + batched + n_dec * step(1)[1]
        latency_max = t_prefill + n_dec * step(most)[1] + most * batched
        slope = (latency_max - latency_1) / max(most - 1, 1)
        saturated = rate >= most / latency_max or 1 - rate * slope <= 0
        concurrency = most if saturated else min(rate * (latency_1 - slope) / (1 - rate * slope), most)
        busy = 1.0 if saturated else 1 - math.exp(-concurrency)
    else:
        concurrency = i["concurrency_given"] or most
    batch = max(concurrency / busy, 1)
    t_compute, t_step = step(batch)
    itl = t_step + batch * batched / n_dec
    latency = t_prefill + n_dec * itl
    t_server = 1 / rate if rate > 0 and not saturated else latency / concurrency
    idle = i["P_gpu_idle_given"] or i["idle_share_default"] * i["P_gpu"]
    share = min((n_dec * min(t_compute, t_step) + batch * batched) / (n_dec * itl), 1)
    busy_power = idle + (i["P_gpu"] - idle) * min(i["power_base"] + i["power_compute"] * share, 1)
    charged = busy + (1 - busy) * i["idle_attribution"]  # the idle share of the group's time, when charged
    e_gpu = i["N_gpu"] * (busy * busy_power + (1 - busy) * i["idle_attribution"] * idle) * t_server / 3600
    servers = i["N_gpu"] / i["gpus_per_server"]
    e_host = (i["P_idle_server"] * servers + i["N_cpu_server"] * servers * i["P_cpu"]) * charged * t_server / 3600
    return {"ttft": t_prefill, "itl": itl, "latency": latency, "concurrency": concurrency, "t_server": t_server,
            "P_gpu_load": busy * busy_power + (1 - busy) * idle, "E_gpu": e_gpu, "E": e_gpu + e_host,
            "E_facility": i["PUE"] * (e_gpu + e_host),
            "operational_emissions_market": i["PUE"] * (e_gpu + e_host) * i["market_gco2e_per_kwh"] / 1000}  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_json_results_follow_from_the_reported_inputs(scenario, runner):
    result = runner.invoke(main, ["run", str(scenario), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    checked = 0
    for run in json.loads(result.stdout)["runs"]:
        points = run["points"]["count"] if "points" in run else None  # a sweep: every input and result is a list
        for i in range(points or 1):
            inputs = {name: v["value"][i] if points else v["value"] for name, v in run["inputs"].items()}
            by_hand = {"scope3": scope3_by_hand, "memory": memory_by_hand, "serving": serving_by_hand}[
                run["methodology"]](inputs)  # fmt: skip
            for name, value in by_hand.items():
                found = run["results"][name]["value"]
                assert (found[i] if points else found) == pytest.approx(value, rel=1e-12), name
                checked += 1
    assert checked >= 8
