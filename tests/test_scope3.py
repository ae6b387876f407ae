"""Scope3 methodology: values computed by hand from the seed's formulas, with the arithmetic written out."""

from __future__ import annotations

import pytest

from conftest import REPO
from impact.engine import run

REL = 1e-12


def scope3(scenario, tree, **kwargs):
    (result,) = [r for r in run(scenario, tree=tree, **kwargs) if r.methodology == "scope3"]
    return {name: float(r.value[0]) for name, r in result.results.items()}, result


def test_chatbot_on_a_whole_h100_server(tree):
    # Llama 3.1 70B (70.55e9 params), FP16 (b = 2), 8 x H100 SXM (989.5 TFLOP/s FP16 dense, 3.35 TB/s, 700 W)
    # in a DGX H100 (8 GPUs, idle 500 W, 2 x 350 W CPUs, 2500 kg and 2500 L embodied, 4 years at 0.95),
    # AWS us-east-1 (379.07 g/kWh, PUE 1.15, WUE 0.25 on site + 2.37 L/kWh for generation); 1000 in, 500 out.
    r, _ = scope3(REPO / "scenarios/chatbot-llama70b-h100.yaml", tree, set={"beta_in": 1, "beta_out": 1})
    t_in = 2 * 70.55e9 * 1000 / (8 * 989.5e12)  # = 0.0178246589 s
    t_out = 2 * 70.55e9 * 500 / (8 * 3.35e12)  # = 2.6324626866 s
    assert r["t_in"] == pytest.approx(t_in, rel=REL)
    assert r["t_out"] == pytest.approx(t_out, rel=REL)
    assert r["t_total"] == pytest.approx(t_in + t_out, rel=REL)
    assert r["t_hat"] == pytest.approx(1.0 * t_in + 1.0 * t_out, rel=REL)  # the betas set to 1
    power = 500 + 8 * 700 + 2 * 350  # P_idle + N_gpu * P_gpu + N_cpu * P_cpu = 6800 W
    assert r["P_server"] == power
    energy = (t_in + t_out) * power / 3600  # = 5.0060983 Wh
    assert r["E"] == pytest.approx(energy, rel=REL)
    assert r["E_facility"] == pytest.approx(1.15 * energy, rel=REL)
    emb_per_h = (8 * 164 + 1 * 2500) * 1000 / (4 * 8760) / 0.95  # = 114.5157 gCO2e per hour
    embodied = (t_in + t_out) * emb_per_h / 3600  # = 0.0843055 g
    training = 2040 * 1e6 / 1e10  # 2040 tCO2e over 1e10 lifetime requests = 0.204 g
    assert r["EmbEm"] == pytest.approx(emb_per_h, rel=REL)
    assert r["embodied_emissions"] == pytest.approx(embodied, rel=REL)
    assert r["training_emissions"] == pytest.approx(training, rel=REL)
    assert r["emissions"] == pytest.approx(1.15 * energy * 379.07 / 1000 + embodied + training, rel=REL)
    wue = 0.25 + 1.15 * 2.37  # on-site + PUE x generation water = 2.9755 L/kWh
    embodied_water = (t_in + t_out) * (2500 / (4 * 8760) / 0.95) / 3600  # server water only (H100: none published)
    assert r["water"] == pytest.approx(energy * wue / 1000 + embodied_water + 0, rel=REL)


def test_calibrated_betas_by_compute_precision_else_pooled(tree):
    import yaml

    fitted = yaml.safe_load((REPO / "catalogs/calibrations.yaml").read_text())["entries"]["default"]
    r, run_ = scope3(REPO / "scenarios/chatbot-llama70b-h100.yaml", tree)  # fp16: its own betas
    assert float(run_.inputs["beta_in"].value[0]) == fitted["beta_in_by_precision"]["fp16"]
    assert r["t_hat"] == pytest.approx(fitted["beta_in_by_precision"]["fp16"] * r["t_in"]
                                       + fitted["beta_out_by_precision"]["fp16"] * r["t_out"], rel=REL)  # fmt: skip
    assert run_.inputs["beta_out"].source.startswith("catalogs/calibrations.yaml:")
    bf16 = {**SMALL, "precision": "bf16"}  # no bf16 rows in the benchmark: the pooled betas
    _, run_ = scope3(bf16, tree)
    assert float(run_.inputs["beta_in"].value[0]) == fitted["beta_in"]
    uncalibrated = {**SMALL, "calibration": "uncalibrated"}
    r, _ = scope3(uncalibrated, tree)
    assert r["t_hat"] == r["t_total"]


def test_pue_1_gives_the_seeds_emissions_formula_literally(tree):
    # inference_emissions = usage_energy x grid + embodied + training, with usage energy = E
    r, _ = scope3(REPO / "scenarios/chatbot-llama70b-h100.yaml", tree, set={"PUE": 1})
    assert r["E_facility"] == r["E"]
    expected = r["E"] * 379.07 / 1000 + r["embodied_emissions"] + r["training_emissions"]
    assert r["emissions"] == pytest.approx(expected, rel=REL)


SMALL = {
    "kind": "scenario",
    "schema_version": 1,
    "model": "llama-2-7b",
    "location": "fr",
    "hardware": {"server": "dgx-h100", "gpus": 1},
    "request": {"input_tokens": 100, "output_tokens": 10},
    "methodology": "scope3",
}


def test_round_numbers_through_every_term(tree):
    values = {
        "P_m": 1e9,
        "A_f_gpu": 1e14,
        "A_bw_gpu": 1e12,
        "b": 2,
        "beta_in": 2,
        "beta_out": 0.5,
        "gpus_per_server": 1,
        "P_idle_server": 800,
        "P_gpu": 700,
        "N_cpu_server": 2,
        "P_cpu": 300,
        "PUE": 1.5,
        "grid_intensity": 100,
        "WUE_onsite": 1,
        "WUE_electricity": 2,
        "gpu_embodied": 100,
        "server_embodied": 900,
        "use_life": 1,
        "utilization": 0.5,
        "gpu_embodied_water": 10,
        "server_embodied_water": 0,
        "training_tco2e": 1,
        "lifetime_requests": 1e6,
        "ft_emissions": 10,
        "ft_requests_per_day": 100,
        "ft_use_life_days": 10,
    }
    r, _ = scope3(SMALL, tree, set=values)
    assert r["t_in"] == pytest.approx(2 * 1e9 * 100 / 1e14, rel=REL)  # 0.002 s
    assert r["t_out"] == pytest.approx(2 * 1e9 * 10 / 1e12, rel=REL)  # 0.02 s
    assert r["t_hat"] == pytest.approx(2 * 0.002 + 0.5 * 0.02, rel=REL)  # 0.014 s
    assert r["E"] == pytest.approx(0.014 * (800 + 700 + 2 * 300) / 3600, rel=REL)  # 0.00816667 Wh
    assert r["E_facility"] == pytest.approx(1.5 * 0.014 * 2100 / 3600, rel=REL)
    emb_h = (100 + 900) * 1000 / (1 * 8760) / 0.5  # 228.31 g/h
    assert r["embodied_emissions"] == pytest.approx(0.014 * emb_h / 3600, rel=REL)
    assert r["model_training_emissions"] == pytest.approx(1e6 / 1e6, rel=REL)  # 1 t over 1e6 requests = 1 g
    assert r["fine_tuning_emissions"] == pytest.approx(10 * 1000 / (100 * 10), rel=REL)  # 10 kg / 1000 = 10 g
    assert r["emissions"] == pytest.approx(
        1.5 * 0.014 * 2100 / 3600 * 100 / 1000 + 0.014 * emb_h / 3600 + 1 + 10, rel=REL
    )
    wue = 1 + 1.5 * 2  # 4 L/kWh
    assert r["water"] == pytest.approx(0.014 * 2100 / 3600 * wue / 1000 + 0.014 * (10 / 8760 / 0.5) / 3600, rel=REL)


def test_a_request_on_part_of_a_server_gets_its_share(tree):
    # 1 of the DGX H100's 8 GPUs: 1/8 of the idle power, CPUs and server embodied emissions
    r, _ = scope3(SMALL, tree)
    assert r["N_server"] == 1 / 8
    assert r["P_server"] == pytest.approx(500 / 8 + 1 * 700 + 2 / 8 * 350, rel=REL)  # 850 W
    assert r["EmbEm"] == pytest.approx((164 + 2500 / 8) * 1000 / (4 * 8760) / 0.95, rel=REL)


def test_totals_scale_with_requests(tree):
    (run_,) = [r for r in run(REPO / "scenarios/rag-long-context.yaml", tree=tree) if r.methodology == "scope3"]
    totals = run_.totals()
    assert run_.requests == 50000
    assert float(totals["E"].value[0]) == pytest.approx(50000 * float(run_.results["E"].value[0]), rel=REL)
    assert "A_f" not in totals  # intensive quantities do not add up
    assert run_.to_dict()["totals"]["emissions"]["value"] == pytest.approx(
        50000 * run_.to_dict()["results"]["emissions"]["value"], rel=REL
    )


def test_moe_uses_active_parameters_for_time_and_total_for_memory(tree):
    scenario = {**SMALL, "model": "mixtral-8x7b", "methodology": ["scope3", "memory"]}
    runs = {r.methodology: r for r in run(scenario, tree=tree)}
    assert float(runs["scope3"].inputs["P_m"].value[0]) == pytest.approx(12.9e9)  # active
    assert float(runs["memory"].inputs["P_total"].value[0]) == pytest.approx(46.7e9)  # all experts resident


def test_a_quantity_with_a_unit_is_converted(tree):
    a, _ = scope3(SMALL, tree, set={"P_gpu": "0.7 kW"})
    b, _ = scope3(SMALL, tree, set={"P_gpu": 700})
    assert a["E"] == b["E"]


def test_local_deployment_has_no_facility_overhead(tree):
    r, result = scope3(REPO / "scenarios/local-7b-rtx4090.yaml", tree)
    assert r["E_facility"] == r["E"]
    assert result.inputs["PUE"].source.startswith("catalogs/deployments.yaml:")
    assert float(result.inputs["WUE_onsite"].value[0]) == 0


def test_api_deployment_supplies_hardware_and_location(tree):
    _, result = scope3(REPO / "scenarios/api-closed-model.yaml", tree)
    assert result.scenario.describe()["region"] == "us"
    assert float(result.inputs["N_gpu"].value[0]) == 8
    assert float(result.inputs["PUE"].value[0]) == 1.2
    assert result.inputs["P_m"].source.startswith("scenarios/api-closed-model.yaml:")
    assert "ESTIMATE from API price" in result.inputs["P_m"].source


def test_missing_facts_are_warned_about_not_hidden(tree):
    _, result = scope3(REPO / "scenarios/lumi-34b-mi250x.yaml", tree)
    assert any(w.startswith("gpu_embodied: accelerator 'mi250x-gcd' has no embodied_kgco2e") for w in result.warnings)
    assert result.inputs["gpu_embodied"].source.endswith(": default")
