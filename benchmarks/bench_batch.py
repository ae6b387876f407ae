"""`impact batch` end to end on generated request logs: wall time and peak memory.

    python benchmarks/bench_batch.py [--big]

Targets: a 1,000,000-row CSV end to end (the whole `impact batch` process, start-up included) at least 200
times the per-request rate of EcoLogits' `compute_llm_impacts`, measured in the same run, with a peak RSS of at
most 300 MB; the same for the log as a 1,000,000-row Parquet file (when pyarrow is installed); with --big, a
10,000,000-row file whose peak RSS stays within 10% of the 1M-row figure (the log is read in chunks). Each
figure is the median of 3 runs. The logs are generated into a temporary folder with three models and four
locations, and removed afterwards.

EcoLogits is measured in its own interpreter, so that it need not share impact's environment: the Python named
by `$ECOLOGITS_PYTHON`, else /tmp/ecologits-venv/bin/python, else this one; if none can import ecologits, the
baseline is skipped (`python -m venv /tmp/ecologits-venv && /tmp/ecologits-venv/bin/pip install ecologits`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import BASE, BIN, run_process, verdict

MODELS = np.array(["llama-3.1-8b", "llama-3.1-70b", "mistral-7b"])
LOCATIONS = np.array(["us", "fr", "de", "se"])


def generate(path: Path, rows: int, chunk: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as fh:
        fh.write("model,input_tokens,output_tokens,location\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            lines = np.char.add(np.char.add(MODELS[rng.integers(0, 3, n)], ","),
                                np.char.add(rng.integers(10, 4000, n).astype(str), ","))  # fmt: skip
            lines = np.char.add(np.char.add(lines, rng.integers(10, 1000, n).astype(str)), ",")
            lines = np.char.add(lines, LOCATIONS[rng.integers(0, 4, n)])
            fh.write("\n".join(lines.tolist()) + "\n")


def generate_apart(path: Path, rows: int) -> None:
    """Generate in a child process: a forked child's peak RSS counts the parent's pages from before its exec,
    so this process must stay small for the measurements to be the command's own."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_batch as b; "
    code += f"b.generate(b.Path({str(path)!r}), {rows})"
    subprocess.run([sys.executable, "-c", code], check=True)


def measure(log: Path, repeat: int = 3) -> tuple[float, float]:
    runs = [run_process([str(BIN / "impact"), "batch", str(log), "--scenario", str(BASE), "--by", "model",
                         "--format", "json"]) for _ in range(repeat)]  # fmt: skip
    return statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs)


ECOLOGITS = """
import time
from ecologits.impacts.llm import compute_llm_impacts
args = dict(model_active_parameter_count=70.55, model_total_parameter_count=70.55, if_electricity_mix_adpe=1e-7,
            if_electricity_mix_pe=10.0, if_electricity_mix_gwp=0.38, if_electricity_mix_wue=1.8,
            datacenter_pue=1.2, datacenter_wue=0.5, request_latency=5.0)
best = None
for _ in range(3):
    start = time.perf_counter()
    for i in range(2000):
        compute_llm_impacts(output_token_count=float(10 + i % 990), **args)
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(2000 / best)
"""


def ecologits_rate() -> tuple[float | None, str]:
    """(compute_llm_impacts calls per second, the interpreter that ran it), or (None, why not)."""
    candidates = [os.environ.get("ECOLOGITS_PYTHON"), "/tmp/ecologits-venv/bin/python", sys.executable]
    for python in [c for c in candidates if c and Path(c).exists()]:
        done = subprocess.run([python, "-c", ECOLOGITS], capture_output=True, text=True)
        if done.returncode == 0:
            return float(done.stdout.strip().splitlines()[-1]), python
    return None, "ecologits is not installed in $ECOLOGITS_PYTHON, /tmp/ecologits-venv or this Python"


def to_parquet(csv: Path, parquet: Path) -> bool:
    code = f"import pandas as pd; pd.read_csv({str(csv)!r}).to_parquet({str(parquet)!r}, index=False)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def report(what: str, seconds: float, rss: float, eco: float | None) -> None:
    rate = 1e6 / seconds
    print(f"impact batch, {what} of 1,000,000 requests (medians of 3 runs):")
    print(f"  wall time {seconds:6.2f} s    {rate:,.0f} requests/s end to end")
    print(f"  peak RSS  {rss / 1e6:6.0f} MB   target <= 300 MB:   {verdict(rss <= 300e6)} ({rss / 300e6:.2f}x of it)")
    if eco:
        print(f"  vs EcoLogits compute_llm_impacts {eco:,.0f} requests/s: {rate / eco:,.0f}x   "
              f"target >= 200x: {verdict(rate / eco >= 200)}")  # fmt: skip


def main() -> None:
    big = "--big" in sys.argv
    eco, where = ecologits_rate()
    print(f"EcoLogits baseline: {f'{eco:,.0f} requests/s ({where})' if eco else 'skipped: ' + where}")
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "requests-1m.csv"
        generate_apart(one, 1_000_000)
        seconds, rss = measure(one)
        report(f"a {one.stat().st_size / 1e6:.0f} MB CSV", seconds, rss, eco)
        parquet = Path(tmp) / "requests-1m.parquet"
        if to_parquet(one, parquet):
            seconds_pq, rss_pq = measure(parquet)
            report(f"a {parquet.stat().st_size / 1e6:.0f} MB Parquet file", seconds_pq, rss_pq, eco)
        else:
            print("Parquet: skipped (pyarrow is not installed: pip install 'impact-llm[parquet]')")
        if big:
            ten = Path(tmp) / "requests-10m.csv"
            generate_apart(ten, 10_000_000)
            seconds10, rss10 = measure(ten, repeat=1)
            growth = rss10 / rss - 1
            ok = verdict(abs(growth) <= 0.10)
            print(f"10,000,000 requests ({ten.stat().st_size / 1e6:.0f} MB): {seconds10:.1f} s, peak RSS "
                  f"{rss10 / 1e6:.0f} MB, {growth:+.1%} against 1M rows   target within 10%: {ok}")  # fmt: skip


if __name__ == "__main__":
    main()
