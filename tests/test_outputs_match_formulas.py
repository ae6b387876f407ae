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
    return {
        "t_in": t_in, "t_out": t_out, "t_total": t_in + t_out, "t_hat": t_hat, "E": energy,
        "E_facility": i["PUE"] * energy,
        "emissions": i["PUE"] * energy * i["grid_intensity"] / 1000 + t_hat * emb_em / 3600 + training,
        "water": energy * wue / 1000 + t_hat * emb_h2o / 3600 + training_h2o,
    }  # fmt: skip


def memory_by_hand(i: dict) -> dict:
    memory = i["overhead"] * i["P_total"] * i["bytes_per_weight"] / 1e9
    kv = 2 * i["layers"] * i["kv_heads"] * i["head_dim"] * i["kv_bytes"] * (i["n_in"] + i["n_out"])
    total = memory + kv * i["concurrent_sequences"] / 1e9
    return {"memory": memory, "memory_total": total, "gpus_needed": math.ceil(total / i["memory_per_gpu"]),
            "fits": float(total <= i["N_gpu"] * i["memory_per_gpu"])}  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_json_results_follow_from_the_reported_inputs(scenario, runner):
    result = runner.invoke(main, ["run", str(scenario), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    checked = 0
    for run in json.loads(result.stdout)["runs"]:
        points = run["points"]["count"] if "points" in run else None  # a sweep: every input and result is a list
        for i in range(points or 1):
            inputs = {name: v["value"][i] if points else v["value"] for name, v in run["inputs"].items()}
            by_hand = {"scope3": scope3_by_hand, "memory": memory_by_hand}[run["methodology"]](inputs)
            for name, value in by_hand.items():
                found = run["results"][name]["value"]
                assert (found[i] if points else found) == pytest.approx(value, rel=1e-12), name
                checked += 1
    assert checked >= 8
