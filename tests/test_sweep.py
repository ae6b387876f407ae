"""Sweeps: a scenario's sweep: block evaluated in one vectorized pass, checked against hand arithmetic and
against single runs of the same points."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from impact.engine import ImpactError, run
from impact.engine import sweep as sweep_module

SWEEP = REPO / "scenarios" / "sweep-output-length.yaml"


def by_name(runs):
    return {r.methodology: r for r in runs}


def test_grid_points_in_order_first_key_slowest(tree):
    scope3 = by_name(run(SWEEP, tree=tree))["scope3"]
    assert scope3.points == {
        "output_tokens": [100.0, 100.0, 1000.0, 1000.0, 10000.0, 10000.0],
        "hardware": ["h100-sxm", "a100-sxm-80gb"] * 3,
    }


def test_decode_time_by_hand(tree):
    # t_out = b * P_m * n_out / (N_gpu * A_bw_gpu); b = 2 B (fp16), P_m = 70.55e9 (llama-3.1-70b), N_gpu = 4:
    #   H100 SXM 3.35e12 B/s:  2 * 70.55e9 * 100 / 13.4e12  = 1.0529850746...
    #   A100 SXM 80GB 2.039e12 B/s: 2 * 70.55e9 * 100 / 8.156e12 = 1.7300147130...
    # and ten and a hundred times that for 1000 and 10000 output tokens
    t_out = by_name(run(SWEEP, tree=tree))["scope3"].results["t_out"].value
    h100, a100 = 2 * 70.55e9 * 100 / 13.4e12, 2 * 70.55e9 * 100 / 8.156e12
    expected = [h100, a100, 10 * h100, 10 * a100, 100 * h100, 100 * a100]
    assert np.allclose(t_out, expected, rtol=1e-12)
    assert h100 == pytest.approx(1.0529850746268656, rel=1e-12)


def test_every_point_equals_a_single_run_of_it(tree):
    swept = by_name(run(SWEEP, tree=tree))
    for i, (tokens, gpu) in enumerate(zip(*swept["scope3"].points.values(), strict=True)):
        single = {
            "kind": "scenario", "schema_version": 1, "model": "llama-3.1-70b", "location": "fr",
            "hardware": {"accelerator": gpu, "gpus": 4},
            "request": {"input_tokens": 1000, "output_tokens": int(tokens)},
        }  # fmt: skip
        for r in run(single, tree=tree):
            for name, result in r.results.items():
                assert swept[r.methodology].results[name].value[i] == pytest.approx(result.value[0], rel=1e-12), name


def test_zip_pairs_lists_and_crosses_the_grid(tree):
    scenario = {
        "kind": "scenario", "schema_version": 1, "model": "llama-3.1-8b", "hardware": "h100-sxm", "location": "fr",
        "request": {"input_tokens": 100, "output_tokens": 100},
        "sweep": {"grid": {"location": ["fr", "us"]}, "zip": {"input_tokens": [10, 20, 30], "PUE": [1.1, 1.2, 1.3]}},
    }  # fmt: skip
    scope3 = by_name(run(scenario, tree=tree, methodologies=["scope3"]))["scope3"]
    assert scope3.points["input_tokens"] == [10.0, 20.0, 30.0] * 2
    assert scope3.points["PUE"] == [1.1, 1.2, 1.3] * 2
    assert scope3.points["location"] == ["fr"] * 3 + ["us"] * 3
    # E_facility = PUE * E at every point
    r = scope3.results
    assert np.allclose(r["E_facility"].value, np.array([1.1, 1.2, 1.3] * 2) * r["E"].value, rtol=1e-12)


def test_a_sweep_refuses_samples(tree):
    with pytest.raises(ImpactError, match="a sweep cannot also be sampled"):
        run(SWEEP, tree=tree, samples=10)


def test_a_sweep_too_large_for_memory_is_refused_with_its_size(tree, monkeypatch):
    monkeypatch.setattr(sweep_module, "available_memory", lambda: 8_000_000_000)
    scenario = {
        "kind": "scenario", "schema_version": 1, "model": "llama-3.1-8b", "hardware": "h100-sxm", "location": "fr",
        "request": {"input_tokens": 100, "output_tokens": 100},
        "sweep": {"grid": {"input_tokens": list(range(1000)), "output_tokens": list(range(1000)), "PUE": [1.1] * 100}},
    }  # fmt: skip
    with pytest.raises(ImpactError) as caught:
        run(scenario, tree=tree)
    message = caught.value.render()
    assert "a sweep of 100,000,000 points would need about" in message
    assert "(8 GB available); expected at most about" in message


def test_sweep_csv_is_one_row_per_point(runner):
    from impact.cli import main

    result = runner.invoke(main, ["run", str(SWEEP), "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 + 6
    assert lines[0].startswith("point,output_tokens,hardware,memory.weights [GB],")
    assert "scope3.E [Wh]" in lines[0].split(",")


def test_sweep_plot_draws_a_png(runner, tmp_path):
    pytest.importorskip("matplotlib")
    from impact.cli import main

    out = tmp_path / "sweep.png"
    result = runner.invoke(main, ["run", str(SWEEP), "--plot", str(out), "--x", "output_tokens", "--y", "scope3.E"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_needs_a_swept_x_and_a_known_result(runner, tmp_path):
    from impact.cli import main

    result = runner.invoke(main, ["run", str(SWEEP), "--plot", str(tmp_path / "p.png"), "--x", "location"])
    assert result.exit_code == 1
    assert result.stderr.startswith("--x location: 'location' is not swept; expected one of output_tokens, hardware")
    result = runner.invoke(main, ["run", str(SWEEP), "--plot", str(tmp_path / "p.png"), "--y", "Energy"])
    assert result.exit_code == 1 and "no result 'Energy'" in result.stderr


def test_a_sweep_plot_draws_the_headline_energy_by_default(tree):
    runs = run(SWEEP, tree=tree)
    assert runs[0].methodology == "memory"  # which declares no energy: the first run that does is drawn
    chosen, name = sweep_module._pick_result(runs, None)
    assert name == chosen.method.headline["energy"] and chosen.methodology != "memory"


def test_a_sweep_plot_is_readable_and_refuses_a_symlink(runner, tmp_path):
    image = pytest.importorskip("PIL.Image")
    from impact.cli import main

    out = tmp_path / "sweep.png"
    assert runner.invoke(main, ["run", str(SWEEP), "--plot", str(out)]).exit_code == 0
    assert image.open(out).size == (960, 600)  # 8 x 5 inches at 120 dpi
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "elsewhere.png")
    result = runner.invoke(main, ["run", str(SWEEP), "--plot", str(link)])
    assert result.exit_code == 1 and result.stderr.startswith(f"--plot {link}: ") and "symbolic link" in result.stderr
