"""`impact memory` and seed 002's memory table.

The seed's "GB" are GiB (2**30 bytes): in GiB our figures are within 3% of every cell, and the rest of the
gap is the parameter count (the seed's calculator leaves out one vocab x hidden embedding matrix: 131M
parameters for LLaMA-7B, 6.62B instead of 6.74B). In GB (1e9 bytes, our unit) ours are 7.1% to 10.7% larger:
7.37% from the unit, the rest from the parameters. The README explains this table.
"""

from __future__ import annotations

import csv
import json

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.memory_table import GIB_PER_GB, memory_table

SEED = [row for row in csv.DictReader(line for line in open(REPO / "tests/fixtures/seed002_memory_table.csv")
                                      if not line.startswith("#"))]  # fmt: skip
COLUMNS = {"fp32": "fp32", "fp16": "fp16", "int8": "int8", "int4": "int4"}


@pytest.fixture(scope="module")
def ours(tree):
    rows = memory_table(tree, [r["model"] for r in SEED])
    return {(r["model"], r["precision"]): r for r in rows}


def test_seed_002_table_side_by_side(ours):
    print(f"\n{'model':15} {'prec':5} {'seed':>8} {'ours GiB':>9} {'ours GB':>8} {'GiB/seed':>9} {'GB/seed':>8}")
    for row in SEED:
        for precision in COLUMNS:
            seed = float(row[precision])
            mine = ours[(row["model"], precision)]["memory_gb"]
            gib = mine * GIB_PER_GB
            cells = f"{seed:8.2f} {gib:9.2f} {mine:8.2f} {gib / seed:9.3f} {mine / seed:8.3f}"
            print(f"{row['model']:15} {precision:5} {cells}")
            # same unit, so only the parameter count differs: within 3%, plus half the seed's 0.01 rounding step
            assert abs(gib - seed) <= 0.03 * seed + 0.005
            assert 1.07 <= mine / seed <= 1.11  # GB vs GiB (x1.0737) and the parameter count


def test_weights_are_parameters_times_bytes(ours):
    # LLaMA 65B (65.2e9 parameters): FP32 4 B, FP16 2 B, INT8 1 B, INT4 0.5 B; memory = 1.2 x weights
    for precision, size in (("fp32", 4), ("fp16", 2), ("int8", 1), ("int4", 0.5)):
        row = ours[("llama-65b", precision)]
        assert row["weights_gb"] == pytest.approx(65.2e9 * size / 1e9)
        assert row["memory_gb"] == pytest.approx(1.2 * 65.2e9 * size / 1e9)
    assert ours[("llama-65b", "fp16")]["gpus_needed"] == 2  # ceil(156.48 / 80)


def test_command_formats(runner):
    result = runner.invoke(main, ["memory", "llama-2-70b", "--precision", "fp16", "--format", "json"])
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)["rows"]
    assert row["memory_gb"] == pytest.approx(68.98 * 2 * 1.2)
    assert row["gpus_needed"] == 3 and row["fits_one"] is False
    gib = json.loads(runner.invoke(main, ["memory", "llama-2-70b", "--precision", "fp16", "--unit", "GiB",
                                          "--format", "json"]).stdout)["rows"][0]  # fmt: skip
    assert gib["memory_gib"] == pytest.approx(row["memory_gb"] * 1e9 / 2**30)
    lumi = runner.invoke(main, ["memory", "poro-34b", "--precision", "bf16", "--hardware", "mi250x-gcd",
                                "--format", "csv"]).stdout.splitlines()  # fmt: skip
    assert lumi[1].endswith(",mi250x-gcd,2,False")  # seed 003: a 34B model needs two 64 GB GCDs
    table = runner.invoke(main, ["memory", "llama-7b", "--format", "markdown"])
    assert "| model | params (B) | fp32 | fp16 | int8 | int4 |" in table.stdout


def test_context_adds_the_kv_cache(runner):
    args = ["memory", "llama-3.1-70b", "--precision", "fp16", "--context", "131072", "--format", "json"]
    (row,) = json.loads(runner.invoke(main, args).stdout)["rows"]
    assert row["kv_cache_gb"] == pytest.approx(2 * 80 * 8 * 128 * 2 * 131072 / 1e9)  # 42.9 GB for 128k tokens
    assert row["total_gb"] == pytest.approx(row["memory_gb"] + row["kv_cache_gb"])


def test_errors(runner):
    result = runner.invoke(main, ["memory", "llama-9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("impact memory llama-9: unknown model 'llama-9'; expected an id from the models")
    result = runner.invoke(main, ["memory", "llama-7b", "--hardware", "h100"])
    assert result.exit_code == 1
    assert result.stderr.startswith("--hardware h100: unknown accelerator 'h100'")
