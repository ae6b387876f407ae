"""`impact validate`: predictions against four measured datasets, with hand-checked rows."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from impact.cli import main
from impact.engine.validate import datasets, summary


@pytest.fixture(scope="module")
def data(tree):
    return {(d.name, d.quantity): d for d in datasets(tree, ("scope3",))}


def test_all_four_datasets(data):
    names = {name for name, _ in data}
    assert names == {"trtllm-throughput", "trtllm-ttft", "mlenergy", "seed002-decode-speed"}
    assert {q for n, q in data if n == "mlenergy"} == {"GPU energy per request (J)", "GPU energy per output token (J)"}
    assert len(data[("trtllm-throughput", "t_hat, held out by model (s)")].predicted) == 3929


def test_seed_002_row_by_hand(data):
    ds = data[("seed002-decode-speed", "seconds per output token, one request")]
    # LLaMA-2 70B (68.98e9 params) in FP16 on 2 x A100 80GB (2.039 TB/s each), one token:
    predicted = 2 * 68.98e9 * 1 / (2 * 2.039e12)  # = 0.03383 s
    rows = np.flatnonzero(ds.groups["accelerator"] == "a100-sxm-80gb tgi")
    row = rows[np.argmin(np.abs(ds.measured[rows] - 1 / 18.61))]  # TGI: 18.61 tokens/s
    assert ds.predicted[row] == pytest.approx(predicted, rel=1e-12)
    assert ds.measured[row] == pytest.approx(1 / 18.61)


def test_ttft_row_by_hand(data):
    ds = data[("trtllm-ttft", "first-token latency vs t_in (s)")]
    # GPT-J 6B (6.05e9) in FP8 on one H100 SXM (1979 TFLOP/s FP8), 128 input tokens; measured 7 ms
    predicted = 2 * 6.05e9 * 128 / 1979e12
    assert np.any(np.isclose(ds.predicted, predicted, rtol=1e-9) & np.isclose(ds.measured, 0.007))


def test_summary_lines_are_medians_and_mapes(data):
    ds = data[("trtllm-ttft", "first-token latency vs t_in (s)")]
    (line,) = [r for r in summary([ds]) if r["group"] == "all"]
    ratio = ds.predicted / ds.measured
    assert line["count"] == len(ratio) == 150
    assert line["median_ratio"] == pytest.approx(np.median(ratio))
    assert line["mape"] == pytest.approx(np.mean(np.abs(ratio - 1)))


def test_command_json_and_plot(runner, tmp_path):
    plot = tmp_path / "v.png"
    result = runner.invoke(main, ["validate", "--methodology", "scope3", "--format", "json", "--group", "precision",
                                  "--plot", str(plot)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert {r["group"] for r in rows} == {"all", "precision"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = pytest.importorskip("PIL.Image")
    width, height = image.open(plot).size
    assert width == 1100 and height >= width / 2  # a grid, two panels a row at 11 inches, 100 dpi; not a strip


def test_plot_without_matplotlib_is_a_clear_error(runner, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    result = runner.invoke(main, ["validate", "--plot", str(tmp_path / "v.png")])
    assert result.exit_code == 1
    assert result.stderr == (f"--plot {tmp_path / 'v.png'}: matplotlib is not installed; expected the plot extra: "
                             'pip install "impact-llm[plot]"\n')  # fmt: skip
    assert not (tmp_path / "v.png").exists()
